"""Input checks for gesture sessions (STYLE.md §5.1): sizes, extensions,
required fields. Whether a layout fits a model is a service rule."""

from __future__ import annotations

import os

from django import forms
from django.conf import settings

from clinic.forms import MultipleFileField
from clinic.gestures.models import MAX_K, GestureModel
from clinic.models import patient_code_validator

# layout -> (label, accepted file extensions); the names are emgcore's layouts.
LAYOUTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "myo-readings": ("myo-readings-dataset session (.npz)", (".npz",)),
    "uci-emg-gestures": ("UCI EMG gestures (Myo) series (.npz)", (".npz",)),
    "ninapro": ("NinaPro DB1/DB2 exercise (.mat)", (".mat",)),
    "uci-semg": ("UCI sEMG basic hand movements subject (.mat)", (".mat",)),
    "csv": ("CSV: one column per channel and a 'label' column (.csv)", (".csv",)),
}
MAX_FILES = 16


class GestureSessionForm(forms.Form):
    base_model = forms.ModelChoiceField(
        queryset=GestureModel.objects.none(),
        label="Pretrained gesture model",
        empty_label=None,
    )
    layout = forms.ChoiceField(
        choices=[(k, v[0]) for k, v in LAYOUTS.items()],
        label="File layout",
        help_text="The dataset's own layout (the one the model was trained on), "
        "or CSV with the same label codes.",
    )
    person_code = forms.CharField(
        max_length=32,
        validators=[patient_code_validator],
        help_text="Pseudonymous code, 1-32 letters, digits, '-' or '_'. Never a name.",
    )
    k = forms.IntegerField(
        label="Adaptation trials per gesture (k)",
        min_value=1,
        max_value=MAX_K,
        initial=1,
        help_text="The first k trials of every gesture adapt the model; the later "
        "ones are held back to measure accuracy before and after.",
    )
    files = MultipleFileField(
        label="Calibration recordings",
        required=False,
        help_text="The person's recordings with their gesture labels, in the "
        "layout chosen above (select several files at once if needed).",
    )
    sfreq_hz = forms.FloatField(
        label="Sampling rate (Hz)",
        required=False,
        min_value=1,
        max_value=100_000,
        help_text="Only for CSV files; it must be the model's rate.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        models = GestureModel.objects.filter(is_enabled=True)
        self.fields["base_model"].queryset = models
        first = models.first()
        if first is not None and not self.is_bound:
            self.initial.setdefault("layout", first.layout)
        exts = sorted({e for _label, es in LAYOUTS.values() for e in es})
        self.fields["files"].widget.attrs["accept"] = ",".join(exts)

    def clean_files(self):
        files = self.cleaned_data.get("files") or []
        if not files:
            raise forms.ValidationError("Choose the calibration recording(s).")
        if len(files) > MAX_FILES:
            raise forms.ValidationError(
                f"{len(files)} files is more than the {MAX_FILES} one session may hold."
            )
        errors = [f"{f.name} is empty." for f in files if f.size == 0]
        total = sum(f.size for f in files)
        if total > settings.EMG_MAX_UPLOAD_MB * 1024 * 1024:
            errors.append(
                f"The files are {total / 1e6:.1f} MB together; the limit is "
                f"{settings.EMG_MAX_UPLOAD_MB} MB."
            )
        if errors:
            raise forms.ValidationError(errors)
        return files

    def clean(self):
        cleaned = super().clean()
        layout = cleaned.get("layout")
        files = cleaned.get("files") or []
        if layout in LAYOUTS:
            allowed = LAYOUTS[layout][1]
            wrong = [
                f.name
                for f in files
                if os.path.splitext(f.name or "")[1].lower() not in allowed
            ]
            if wrong:
                self.add_error(
                    "files",
                    f"{', '.join(wrong)}: the {layout!r} layout takes "
                    f"{', '.join(allowed)} files.",
                )
            if layout == "csv" and not cleaned.get("sfreq_hz"):
                self.add_error("sfreq_hz", "CSV files need their sampling rate.")
        return cleaned

    def session_fields(self) -> dict:
        """The cleaned fields as ``services.gesture_session_create`` takes them."""
        names = ("base_model", "layout", "files", "person_code", "k", "sfreq_hz")
        return {n: self.cleaned_data[n] for n in names}
