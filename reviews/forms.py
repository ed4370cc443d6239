"""Browser forms. They check shape only; every rule lives in ``reviews.services``."""

from django import forms

from checklists.models import TemplateVersion
from reviews.models import OVERRIDABLE_RULES, Decision, FindingSeverity, GateRule, Role, Verdict


class AnswerForm(forms.Form):
    """One item's answer from the review page. A note may be saved before a verdict is chosen:
    the page's radios show the saved verdict, so a form without one is an unanswered item, and
    its note is saved on it (the page script sends ``unanswered`` explicitly)."""

    verdict = forms.ChoiceField(choices=Verdict.choices, required=False)
    note = forms.CharField(required=False, max_length=10_000, strip=True)
    version = forms.IntegerField(required=False, min_value=1)
    # "Overwrite with mine" after a conflict: the version of the other person's answer that the
    # reader was shown and chose to save over. A plain save keeps ``version``, the one the
    # reader's page had, and so meets the conflict again instead of overwriting.
    overwrite = forms.IntegerField(required=False, min_value=1)

    def clean(self):
        data = super().clean()
        if self.errors or data.get("verdict"):
            return data
        if not data.get("note"):
            self.add_error("verdict", "Choose pass, fail or N/A.")
        else:
            data["verdict"] = Verdict.UNANSWERED
        return data


class CommentForm(forms.Form):
    comment = forms.CharField(required=False, max_length=5_000, widget=forms.Textarea)


class SignOffForm(CommentForm):
    decision = forms.ChoiceField(choices=Decision.choices, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=5_000, widget=forms.Textarea)


class OverrideForm(forms.Form):
    rule = forms.ChoiceField(choices=[(r, GateRule(r).label) for r in OVERRIDABLE_RULES])
    justification = forms.CharField(max_length=5_000, widget=forms.Textarea)
    expires_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


class FindingForm(forms.Form):
    """A new finding. ``items``: the review's items as choices grouped by section,
    ``[(section title, [(item id, item text), …]), …]``; the finding form page offers them
    (by their text, chosen by id), the short form at the foot of the review page does not
    (its findings are about the spec as a whole)."""

    # No severity is chosen for the reviewer: a critical finding blocks the gate, so it is
    # never the one a hurried click leaves in place.
    severity = forms.ChoiceField(choices=[("", "Choose a severity…"), *FindingSeverity.choices])
    title = forms.CharField(max_length=300)
    item = forms.TypedChoiceField(
        coerce=int, empty_value=None, required=False, label="Checklist item (optional)"
    )
    location = forms.CharField(required=False, max_length=500)
    impact = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    recommendation = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    verification = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, items=None, **kwargs):
        super().__init__(*args, **kwargs)
        if items is None:
            del self.fields["item"]
        else:
            self.fields["item"].choices = [("", "— none: the spec as a whole —"), *items]


class ResolveForm(forms.Form):
    status = forms.ChoiceField(choices=[("resolved", "Resolved"), ("wont_fix", "Won't fix")])
    note = forms.CharField(max_length=5_000, widget=forms.Textarea(attrs={"rows": 2}))


class MemberForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices)
    can_override = forms.BooleanField(required=False, label="May override gate rules (leads)")


class RemoveMemberForm(forms.Form):
    email = forms.EmailField()


class ProjectSettingsForm(forms.Form):
    required_signoffs = forms.IntegerField(min_value=1, max_value=20)
    important_findings_block = forms.BooleanField(
        required=False, label="Open important findings block the gate"
    )


class SpecForm(forms.Form):
    title = forms.CharField(max_length=300)
    link = forms.URLField(required=False, max_length=1000, assume_scheme="https")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    revision_label = forms.CharField(max_length=100, initial="r1")


class RevisionForm(forms.Form):
    label = forms.CharField(max_length=100)
    link = forms.URLField(required=False, max_length=1000, assume_scheme="https")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReviewCreateForm(forms.Form):
    template_versions = forms.ModelMultipleChoiceField(
        queryset=TemplateVersion.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Checklists (published versions)",
    )
    reviewers = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, choices=[]
    )
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, reviewer_emails=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template_versions"].queryset = (
            TemplateVersion.objects.published()
            .select_related("template")
            .order_by("template__title", "-number")
        )
        self.fields["template_versions"].label_from_instance = lambda v: v.picker_label
        self.fields["reviewers"].choices = [(e, e) for e in reviewer_emails]


class SectionNaForm(forms.Form):
    """ "Mark the rest of this section N/A": one note, the count the person confirmed."""

    # Always asked for: a bulk N/A says why, and N/A on a required item needs a note anyway.
    note = forms.CharField(
        max_length=10_000,
        strip=True,
        error_messages={"required": "give the note that says why they do not apply."},
    )
    expected = forms.IntegerField(min_value=1)
    confirm = forms.BooleanField(
        error_messages={"required": "tick the box to confirm the number of items."}
    )

    def error_text(self) -> str:
        return " ".join(str(e) for errors in self.errors.values() for e in errors)
