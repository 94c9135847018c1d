"""Forms of the governance pages: promotion, rollback, removal (a reason and
an explicit confirmation each; the services audit both)."""

from __future__ import annotations

from django import forms


class ConfirmWithReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        min_length=5,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why, in a sentence; it is kept in the audit trail.",
    )
    confirm = forms.BooleanField(
        label="I have read the evaluation above and confirm this change.",
        required=True,
    )

    def __init__(self, *args, confirm_label: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if confirm_label:
            self.fields["confirm"].label = confirm_label


class ConfirmForm(forms.Form):
    """An explicit tick instead of a JavaScript confirm() (the CSP forbids
    inline script, and a tick is also what a keyboard or screen reader user
    can review before sending)."""

    confirm = forms.BooleanField(label="I confirm.", required=True)

    def __init__(self, *args, confirm_label: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if confirm_label:
            self.fields["confirm"].label = confirm_label
