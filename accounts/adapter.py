"""allauth's hooks: e-mails name the site (SPECGATE_SITE_NAME) and link to SPECGATE_BASE_URL when it
is set (else to the host that served the request); sign-up saves the person's name."""

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django.conf import settings


@dataclass(frozen=True)
class Site:
    """What allauth's e-mail templates read as ``current_site``."""

    name: str
    domain: str


def site_name() -> str:
    return settings.SPECGATE_SITE_NAME


def current_site(request) -> Site:
    base = urlsplit(settings.SPECGATE_BASE_URL)
    domain = base.netloc or (request.get_host() if request is not None else "")
    return Site(name=site_name(), domain=domain)


def rebase(url: str) -> str:
    """An absolute link on the configured base URL (unchanged when none is configured)."""
    base = urlsplit(settings.SPECGATE_BASE_URL)
    if not base.netloc:
        return url
    parts = urlsplit(url)
    path = base.path.rstrip("/") + parts.path
    return urlunsplit((base.scheme or "https", base.netloc, path, parts.query, parts.fragment))


class AccountAdapter(DefaultAccountAdapter):
    def format_email_subject(self, subject: str) -> str:
        return f"[{site_name()}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context_data: dict) -> None:
        request = context.request
        ctx = {"request": request, "email": email, "current_site": current_site(request)}
        ctx.update(context_data)
        self.render_mail(template_prefix, email, ctx).send()

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        return rebase(super().get_email_confirmation_url(request, emailconfirmation))

    def get_reset_password_from_key_url(self, key: str) -> str:
        return rebase(super().get_reset_password_from_key_url(key))

    def save_user(self, request, user, form, commit=True):
        name = form.cleaned_data.get("name")
        if name:
            user.display_name = name
        return super().save_user(request, user, form, commit=commit)
