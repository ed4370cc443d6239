"""Personal API tokens in the browser: list, create (the token is shown once), revoke."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import ApiToken
from accounts.reauth import recent_authentication_required
from accounts.services import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, token_create, token_revoke
from config.errors import DomainError, NotFound


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100)
    read_only = forms.BooleanField(required=False, label="Read-only (no changes through the API)")
    expires_in_days = forms.IntegerField(
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        initial=DEFAULT_TOKEN_DAYS,
        label="Expires after (days)",
        help_text=f"1 to {MAX_TOKEN_DAYS} days. Every token expires.",
    )


# The new token, kept in the (server-side) session from the POST that made it to the page that
# shows it once: the browser then lands on the tokens page, also when the POST was resumed after
# confirming the password (allauth answers a resumed request at /accounts/reauthenticate/).
NEW_TOKEN_SESSION_KEY = "accounts_new_token"


def _page(request, form, raw=None, status=200):
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at")
    return render(
        request,
        "accounts/tokens.html",
        {"tokens": tokens, "form": form, "raw_token": raw},
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@recent_authentication_required(allow_get=True)  # creating a token needs a recent authentication
def tokens(request):
    if request.method != "POST":
        return _page(request, TokenForm(), raw=request.session.pop(NEW_TOKEN_SESSION_KEY, None))
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        issued = token_create(
            actor=request.user,
            name=form.cleaned_data["name"],
            read_only=form.cleaned_data["read_only"],
            expires_in_days=form.cleaned_data["expires_in_days"],
        )
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _page(request, form, status=400)
    messages.success(request, f"Token “{issued.token.name}” created. Copy it now.")
    request.session[NEW_TOKEN_SESSION_KEY] = issued.raw
    return redirect("accounts:tokens")


@login_required
@require_POST
def token_revoke_view(request, pk: int):
    try:
        token = token_revoke(actor=request.user, token_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("accounts:tokens")
