"""manage.py export_checklist SLUG [--version N] [--output FILE]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from checklists import selectors
from checklists.models import ChecklistTemplate


class Command(BaseCommand):
    help = "Write a checklist version as Markdown (the latest published one unless --version)."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # ``--version N`` picks a checklist version; it replaces Django's ``--version`` flag.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("slug", metavar="SLUG")
        parser.add_argument("--version", dest="number", type=int, metavar="N")
        parser.add_argument("--output", metavar="FILE", help="Write to FILE instead of stdout.")

    def handle(self, *args, slug, number, output, **options):
        template = ChecklistTemplate.objects.filter(slug=slug).first()
        if template is None:
            raise CommandError(f"No checklist with the slug '{slug}'.")
        if number is not None:
            version = template.versions.filter(number=number).first()
            if version is None:
                raise CommandError(f"'{slug}' has no version {number}.")
        else:
            version = selectors.latest_published(template)
            if version is None:
                raise CommandError(f"'{slug}' has no published version; pass --version N.")
        text = selectors.version_markdown(version)
        if not output:
            self.stdout.write(text, ending="" if text.endswith("\n") else "\n")
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{output}: cannot write the file ({exc.strerror or exc}).") from exc
        self.stderr.write(f"Wrote {version} to {output}.")
