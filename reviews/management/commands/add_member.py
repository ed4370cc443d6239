"""manage.py add_member PROJECT_SLUG EMAIL ROLE [--can-override] [--as EMAIL]"""

from django.core.management.base import BaseCommand, CommandError

from accounts.management.acting import acting_user, add_acting_argument, refusals_as_command_errors
from reviews.models import Project, Role
from reviews.services import membership_set


class Command(BaseCommand):
    help = (
        "Add a user to a project with a role, or change their role there "
        f"({', '.join(Role.values)}). Acts as a site administrator, or --as one of the "
        "project's leads."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", metavar="PROJECT_SLUG")
        parser.add_argument("email", help="the user's e-mail address (create_user first)")
        parser.add_argument("role", help=f"one of {', '.join(Role.values)}")
        parser.add_argument(
            "--can-override",
            action="store_true",
            help="a lead who may override gate rules, with a justification",
        )
        add_acting_argument(parser)

    def handle(self, *args, project, email, role, can_override, as_email, **options):
        actor = acting_user(as_email)
        target = Project.objects.filter(slug=project).first()
        if target is None:
            raise CommandError(f"No project with slug {project!r}.")
        with refusals_as_command_errors():
            membership, created = membership_set(
                actor=actor, project=target, email=email, role=role, can_override=can_override
            )
        verb = "Added" if created else "Set"
        extra = " (may override)" if membership.can_override else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {membership.user.email} as {membership.role} of {target.slug}{extra}."
            )
        )
