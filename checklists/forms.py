"""Forms of the checklist library's own pages, and what they share with the admin's import
(the signed upload a preview carries to its confirmation, the publish form).

They check shape only; the importer and ``checklists.services`` decide everything else.
"""

import base64
import zlib

from django import forms
from django.conf import settings
from django.core import signing

from checklists.importer import ImportFailed
from checklists.services.importing import SLUG_MAX
from config.errors import InvalidInput

UPLOAD_SALT = "checklists.admin.import"
UPLOAD_MAX_AGE = 60 * 60  # seconds between the preview and the confirmation


def max_bytes() -> int:
    return settings.SPECGATE_IMPORT_MAX_BYTES


def pack_upload(raw: bytes, name: str) -> str:
    """The uploaded bytes, compressed and signed, for a hidden field of the preview page."""
    blob = base64.b64encode(zlib.compress(raw, 6)).decode("ascii")
    return signing.dumps({"name": name, "data": blob}, salt=UPLOAD_SALT)


def unpack_upload(token: str) -> tuple[bytes, str]:
    try:
        value = signing.loads(token, salt=UPLOAD_SALT, max_age=UPLOAD_MAX_AGE)
        inflater = zlib.decompressobj()
        raw = inflater.decompress(base64.b64decode(value["data"]), max_bytes() + 1)
        return raw, str(value["name"])
    except (signing.BadSignature, KeyError, TypeError, ValueError, zlib.error) as exc:
        raise InvalidInput(
            "The uploaded document expired or was altered; upload the file again."
        ) from exc


class PublishForm(forms.Form):
    changelog = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text="What changed, for reviewers choosing between versions.",
    )


# The name a pasted document goes by in the importer's messages and the version's source_name.
PASTED_NAME = "pasted text"
ACTIONS = {
    "preview": "Check again",
    "draft": "Import as draft",
    "publish": "Import and publish",
}


class ImportForm(forms.Form):
    # An empty file reaches the importer, whose refusal names the file (DESIGN.md).
    file = forms.FileField(
        label="Markdown file",
        required=False,
        allow_empty_file=True,
        help_text="A checklist document (.md or .txt, UTF-8, up to 2 MB).",
        widget=forms.ClearableFileInput(attrs={"accept": ".md,.markdown,.txt,text/markdown"}),
    )
    text = forms.CharField(
        label="…or paste the document",
        required=False,
        strip=False,
        help_text="The Markdown text itself, up to 2 MB.",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
    )
    slug = forms.SlugField(
        required=False,
        max_length=SLUG_MAX,
        help_text="Leave empty to derive it from the document's title. An existing slug adds a "
        "new version to that checklist.",
    )

    def clean(self):
        data = super().clean()
        upload, text = data.get("file"), data.get("text") or ""
        if upload is None and not text:
            self.add_error("file", "Choose a Markdown file, or paste the document below.")
        elif upload is not None and text.strip():
            self.add_error("text", "Give a file or pasted text, not both.")
        return data

    @classmethod
    def refused(cls, message: str) -> "ImportForm":
        """An empty form that says why the last step was refused."""
        form = cls()
        form.errors["__all__"] = form.error_class([message])
        return form

    @property
    def source_field(self) -> str:
        """The field the document came from: where the importer's refusal is shown."""
        return "file" if self.cleaned_data.get("file") is not None else "text"

    def document(self) -> tuple[bytes, str]:
        """The document's bytes and its name. A file over the limit is not read: the
        importer's refusal names its real size."""
        upload = self.cleaned_data.get("file")
        if upload is None:
            return self.cleaned_data["text"].encode("utf-8"), PASTED_NAME
        limit = max_bytes()
        if upload.size > limit:
            raise ImportFailed(
                upload.name,
                f"the file is {upload.size:,} bytes; the limit is {limit:,} bytes "
                f"({limit / 1024 / 1024:g} MB).",
                status=413,
            )
        return upload.read(limit + 1), upload.name


class ImportConfirmForm(forms.Form):
    """The preview's form: the signed document, the slug (changing it asks for a new look at
    the preview) and the changelog. The document is parsed again on every post."""

    payload = forms.CharField(widget=forms.HiddenInput)
    previewed_slug = forms.SlugField(widget=forms.HiddenInput, max_length=SLUG_MAX)
    slug = forms.SlugField(
        max_length=SLUG_MAX,
        help_text="Change it and choose “Check again” to see what importing under it does.",
    )
    changelog = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What changed, for reviewers choosing between versions.",
    )
    # Set by the button pressed; none (Enter in a field of an older browser) means "Check again".
    action = forms.ChoiceField(choices=list(ACTIONS.items()), required=False)

    @property
    def must_preview_again(self) -> bool:
        data = self.cleaned_data
        return data["action"] in ("", "preview") or data["slug"] != data["previewed_slug"]
