import time

import factory
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.permissions import CURATOR_GROUP

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def curator(self, create, extracted, **kwargs):
        if extracted:
            group, _ = Group.objects.get_or_create(name=CURATOR_GROUP)
            self.groups.add(group)
        if create:
            self.save()


def record_reauthentication(client, user) -> None:
    """Store in the client's session what allauth stores after the user confirms their password
    (``force_login`` records no authentication), so views behind
    ``reauthentication_required`` (approve, override, token creation) let the request through."""
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "reauthenticated": True}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
