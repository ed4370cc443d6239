"""manage.py create_project SLUG NAME [--description TEXT] [--as EMAIL]"""

from django.core.management.base import BaseCommand

from accounts.management.acting import acting_user, add_acting_argument, refusals_as_command_errors
from reviews.services import project_create


class Command(BaseCommand):
    help = "Create a project (site administrators). Then give it a lead with add_member."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the project's short name in URLs, e.g. payments")
        parser.add_argument("name", help="the project's name")
        parser.add_argument("--description", default="")
        add_acting_argument(parser)

    def handle(self, *args, slug, name, description, as_email, **options):
        actor = acting_user(as_email)
        with refusals_as_command_errors():
            project = project_create(actor=actor, slug=slug, name=name, description=description)
        self.stdout.write(self.style.SUCCESS(f"Created project {project.slug} ({project.name})."))
