"""Input checks for uploads and clinician entries (STYLE.md §5.1): sizes,
extensions, required fields. No business rules here."""

from __future__ import annotations

import os
from collections import Counter

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from clinic.models import (
    AuditEvent,
    ConfirmedDiagnosis,
    ModelVersion,
    RetrainingRun,
    Upload,
    patient_code_validator,
)

WFDB_EXTENSIONS = (".hea", ".dat")
SINGLE_FILE_EXTENSIONS = (".zip", ".edf", ".bdf", ".csv")
ALLOWED_EXTENSIONS = WFDB_EXTENSIONS + SINGLE_FILE_EXTENSIONS
MAX_FILES = 8


def _ext(f: UploadedFile) -> str:
    return os.path.splitext(f.name or "")[1].lower()


def _header_data_files(hea: UploadedFile) -> set[str]:
    """Data-file names a WFDB header's signal lines give (their first field).

    WFDB lets a header name its data file freely (rec.dat, rec.bin, ...); the
    reader opens it by that name, so that name, whatever its extension, is the
    file the upload needs beside the header.
    """
    try:
        hea.seek(0)
        text = hea.read(64 * 1024).decode("ascii", errors="replace")
    finally:
        hea.seek(0)
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    names = set()
    for line in lines[1:]:
        name = line.split()[0]
        if name and name != "~":  # "~": samples kept elsewhere, not a file
            names.add(os.path.basename(name))
    return names


def recording_files_errors(files: list[UploadedFile]) -> list[str]:
    """Why ``files`` cannot make one recording (empty list when they can)."""
    if not files:
        return ["Choose the recording file(s) to upload."]
    if len(files) > MAX_FILES:
        return [f"{len(files)} files is more than the {MAX_FILES} one upload may hold."]
    errors = []
    limit = settings.EMG_MAX_UPLOAD_MB * 1024 * 1024
    headers = [f for f in files if _ext(f) == ".hea"]
    named = _header_data_files(headers[0]) if len(headers) == 1 else set()
    for f in files:
        if _ext(f) not in ALLOWED_EXTENSIONS and f.name not in named:
            errors.append(
                f"{f.name}: files of type '{_ext(f) or 'none'}' are not accepted; "
                f"allowed: {', '.join(ALLOWED_EXTENSIONS)}."
            )
        if f.size == 0:
            errors.append(f"{f.name} is empty.")
    total = sum(f.size for f in files)
    if total > limit:
        errors.append(
            f"The upload is {total / 1e6:.1f} MB; the limit is "
            f"{settings.EMG_MAX_UPLOAD_MB} MB."
        )
    if errors:
        return errors
    exts = [_ext(f) for f in files]
    if any(e in WFDB_EXTENSIONS for e in exts):
        if any(
            e not in WFDB_EXTENSIONS and f.name not in named
            for e, f in zip(exts, files, strict=True)
        ):
            return [
                "Upload either a WFDB .hea + .dat pair or one other file, not both."
            ]
        stems = {os.path.splitext(f.name)[0] for f in files}
        counts = Counter(exts)
        if counts[".hea"] != 1:
            return ["A WFDB recording needs exactly one .hea header file."]
        data = [f for f in files if _ext(f) == ".dat" or f.name in named]
        if not data:
            hea = next(f.name for f in files if _ext(f) == ".hea")
            if named and not all(n.lower().endswith(".dat") for n in named):
                what = "its data file " + ", ".join(sorted(named))
            else:
                what = "its .dat data file"
            return [f"{hea} needs {what}; select both files together."]
        if len(stems) != 1:
            return [
                "The .hea and .dat files should share one name (e.g. rec.hea and "
                "rec.dat)."
            ]
    elif len(files) != 1:
        return ["Upload one recording at a time (one EDF, BDF, CSV or zip file)."]
    return []


def upload_request_too_large(content_length: str | None) -> str | None:
    """An error if the request body is clearly over the upload limit.

    Checked before the view reads the body: token-authenticated API calls are
    refused without parsing it (browser posts are parsed by the CSRF check
    first; a reverse proxy should limit the body size as well).
    """
    try:
        size = int(content_length or 0)
    except ValueError:
        return None
    # Room for the form fields and multipart boundaries.
    limit = settings.EMG_MAX_UPLOAD_MB * 1024 * 1024 + 1024 * 1024
    if size > limit:
        return (
            f"The upload is {size / 1e6:.1f} MB; the limit is "
            f"{settings.EMG_MAX_UPLOAD_MB} MB."
        )
    return None


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


class UploadForm(forms.Form):
    patient_code = forms.CharField(
        max_length=32,
        validators=[patient_code_validator],
        help_text="Pseudonymous code, 1-32 letters, digits, '-' or '_'. "
        "Never a name or a record number that identifies the patient.",
    )
    muscle = forms.CharField(max_length=64, help_text="e.g. tibialis anterior")
    side = forms.ChoiceField(choices=Upload.Side.choices)
    electrode_type = forms.ChoiceField(
        choices=[
            (Upload.ElectrodeType.NEEDLE, "Needle"),
            (Upload.ElectrodeType.SURFACE, "Surface"),
        ]
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text="Clinical context. Do not enter names or other identifiers.",
    )
    files = MultipleFileField(
        label="Recording file(s)",
        required=False,
        help_text="A WFDB .hea and the data file it names (.dat or .bin; select "
        "both), or one .zip, .edf, .bdf or .csv file.",
    )
    sfreq_hz = forms.FloatField(
        label="Sampling rate (Hz)",
        required=False,
        min_value=1,
        max_value=1_000_000,
        help_text="Only for CSV files without a time column.",
    )

    def __init__(self, *args, metadata_required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].widget.attrs["accept"] = ",".join(ALLOWED_EXTENSIONS)
        if not metadata_required:
            # The API takes muscle, side and electrode type as optional metadata.
            for name in ("muscle", "side", "electrode_type"):
                self.fields[name].required = False
            self.fields["electrode_type"].choices = Upload.ElectrodeType.choices

    def clean_files(self):
        files = self.cleaned_data.get("files") or []
        errors = recording_files_errors(files)
        if errors:
            raise forms.ValidationError(errors)
        return files

    def clean(self):
        cleaned = super().clean()
        for name, default in (
            ("side", Upload.Side.NOT_APPLICABLE),
            ("electrode_type", Upload.ElectrodeType.UNKNOWN),
        ):
            if name in cleaned and not cleaned[name]:
                cleaned[name] = default
        return cleaned

    def upload_fields(self) -> dict:
        """The cleaned fields as ``services.upload_create`` takes them."""
        names = ("files", "patient_code", "muscle", "side", "electrode_type")
        return {n: self.cleaned_data[n] for n in names + ("notes", "sfreq_hz")}


class ConfirmedDiagnosisForm(forms.Form):
    """A confirmed diagnosis feeds retraining and the auditor's reports, so it
    starts empty (no class is one click away) and needs an explicit tick."""

    diagnosis = forms.ChoiceField(
        choices=[("", "— choose —"), *ConfirmedDiagnosis.Diagnosis.choices],
        label="Confirmed diagnosis",
        error_messages={"required": "Choose the confirmed diagnosis."},
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        help_text="How it was confirmed (e.g. biopsy). No names.",
    )
    confirm = forms.BooleanField(
        label="I confirm this diagnosis was established clinically "
        "(it is used for retraining and audits)",
        error_messages={"required": "Tick the box to confirm the diagnosis."},
    )

    def diagnosis_fields(self) -> dict:
        """What ``confirmed_diagnosis_create`` takes (not the tick box)."""
        return {
            "diagnosis": self.cleaned_data["diagnosis"],
            "note": self.cleaned_data["note"],
        }


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("", "Any action"), *AuditEvent.Action.choices], required=False
    )
    actor = forms.CharField(label="User", max_length=150, required=False)
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class RetrainingForm(forms.ModelForm):
    """What an admin chooses for a retraining run (web page and API)."""

    class Meta:
        model = RetrainingRun
        fields = [
            "base_model",
            "use_emgdb",
            "use_n2001",
            "use_confirmed",
            "method",
            "epochs",
            "learning_rate",
            "seed",
        ]
        help_texts = {
            "epochs": "1-200; a few epochs take minutes on a CPU.",
            "learning_rate": "e.g. 0.0001 for fine-tuning, 0.001 from scratch.",
            "use_confirmed": "Uploads whose confirmed diagnosis is healthy, "
            "myopathy or neuropathy.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["base_model"]
        from clinic.services.retraining import NOT_RETRAINABLE

        disease = ModelVersion.objects.filter(kind=ModelVersion.Kind.DISEASE)
        # By primary key: excluding on the JSON key directly would also drop
        # versions whose metadata has no model_name (SQL NULL semantics).
        feature_models = disease.filter(metadata__model_name__in=NOT_RETRAINABLE)
        field.queryset = disease.exclude(pk__in=feature_models.values("pk"))
        field.label = "Base model"
        field.empty_label = None
        active = field.queryset.filter(is_active=True).first()
        if active is not None and not self.is_bound:
            self.initial.setdefault("base_model", active.pk)

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(k) for k in ("use_emgdb", "use_n2001", "use_confirmed")):
            raise forms.ValidationError("Choose at least one source of training data.")
        return cleaned
