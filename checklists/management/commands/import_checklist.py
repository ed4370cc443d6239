"""manage.py import_checklist FILE… [--slug S] [--dry-run] [--publish] [--as EMAIL]"""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.permissions import CURATOR_GROUP, is_curator
from checklists import selectors, services
from checklists.importer import parse_document
from config.errors import DomainError


def read_document(name: str) -> bytes:
    """The file's bytes; one byte over the limit is enough for the importer to refuse it."""
    try:
        with Path(name).open("rb") as handle:
            return handle.read(settings.SPECGATE_IMPORT_MAX_BYTES + 1)
    except OSError as exc:
        raise CommandError(f"{name}: cannot read the file ({exc.strerror or exc}).") from exc


def default_actor():
    """The first active superuser, else the first active curator."""
    users = get_user_model().objects.filter(is_active=True).order_by("pk")
    actor = users.filter(is_superuser=True).first()
    return actor or users.filter(groups__name=CURATOR_GROUP).first()


class Command(BaseCommand):
    help = (
        "Import Markdown checklist documents as draft versions (all files or none). "
        "--dry-run only parses and shows what each document holds."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--slug", help="The checklist's slug (one file only).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Parse and summarise; write nothing."
        )
        parser.add_argument("--publish", action="store_true", help="Publish what is imported.")
        parser.add_argument("--changelog", default="", help="Changelog of the new version.")
        parser.add_argument(
            "--as",
            dest="as_email",
            metavar="EMAIL",
            help="Act as this curator (default: the first superuser, else the first curator).",
        )

    def handle(self, *args, files, slug, dry_run, publish, changelog, as_email, **options):
        if slug and len(files) > 1:
            raise CommandError("--slug names one checklist: give a single FILE with it.")
        if slug:
            try:
                services.validate_slug(slug)
            except DomainError as exc:
                raise CommandError(str(exc)) from exc
        documents = [(name, read_document(name)) for name in files]
        if dry_run:
            self._dry_run(documents, slug, options["verbosity"])
            return
        actor = self._actor(as_email)
        try:
            with transaction.atomic():
                for name, raw in documents:
                    result = services.checklist_import(
                        actor=actor,
                        data=raw,
                        source_name=name,
                        slug=slug,
                        publish=publish,
                        changelog=changelog,
                    )
                    self._report(name, result)
        except DomainError as exc:
            raise CommandError(f"{exc} Nothing was imported.") from exc

    def _actor(self, email):
        if email:
            actor = get_user_model().objects.filter(email__iexact=email).first()
            if actor is None:
                raise CommandError(f"No user with the e-mail address {email}.")
            if not is_curator(actor):
                raise CommandError(f"{email} is not a curator (group '{CURATOR_GROUP}').")
            return actor
        actor = default_actor()
        if actor is None:
            raise CommandError(
                "No curator to act as: pass --as EMAIL, or create a superuser "
                "(manage.py createsuperuser; the quickstart's demo data has one)."
            )
        return actor

    def _report(self, name, result):
        version = result.version
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(f"{name}: warning: {warning}"))
        if not result.created:
            self.stdout.write(f"{name}: unchanged — identical to {version}; nothing written.")
            return
        what = "replaced draft" if result.replaced_draft else "created"
        count = version.items.count()
        self.stdout.write(self.style.SUCCESS(f"{name}: {what} {version} with {count} items."))

    def _dry_run(self, documents, slug, verbosity):
        errors = []
        for name, raw in documents:
            try:
                tree = parse_document(raw, source_name=name)
                target = slug or services.default_slug(tree, name)
            except DomainError as exc:
                errors.append(str(exc))
                continue
            self._summarise(name, tree, target, verbosity)
        if errors:
            raise CommandError("\n".join(errors))
        self.stdout.write("Dry run: nothing was written.")

    def _summarise(self, name, tree, slug, verbosity):
        summary = selectors.parsed_summary(tree)
        severities = summary["severities"]
        plan = selectors.import_plan(slug=slug, content_hash=tree.content_hash)
        write = self.stdout.write
        write(self.style.MIGRATE_HEADING(f"{name}: “{tree.title}” → slug '{slug}'"))
        write(
            f"  {summary['sections']} sections, {summary['groups']} groups, "
            f"{summary['items']} items ({summary['gate']} gate items, "
            f"{summary['optional']} if applicable)"
        )
        write(
            f"  severities: must {severities['must']}, should {severities['should']}, "
            f"could {severities['could']}"
        )
        write(f"  {plan.description}")
        for warning in tree.warnings:
            write(self.style.WARNING(f"  warning: {warning}"))
        for section in tree.sections:
            write(f"  § {section.title} ({len(section.all_items())} items)")
            self._items(section.items, verbosity, "      ")
            for group in section.groups:
                write(f"    · {group.title} ({len(group.items)} items)")
                self._items(group.items, verbosity, "        ")

    def _items(self, items, verbosity, indent):
        if verbosity < 2:
            return
        for item in items:
            flags = item.severity + (", gate" if item.is_gate else "")
            flags += ", if applicable" if item.optional else ""
            self.stdout.write(f"{indent}- [{flags}] {item.text} (line {item.line})")
