"""The sign-up form's extra field: the person's name, shown to others instead of the e-mail."""

from django import forms


class SignupForm(forms.Form):
    """allauth's ``ACCOUNT_SIGNUP_FORM_CLASS``: its fields come before allauth's own."""

    name = forms.CharField(
        max_length=150,
        label="Your name",
        help_text="Shown to your team on reviews and sign-offs.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Enter your name.")
        return name

    def signup(self, request, user) -> None:
        """Called by allauth after the user is saved; the adapter already set the name."""
