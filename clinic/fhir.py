"""One analysis result as a FHIR Bundle (issue 18, Interoperability).

The Bundle (type ``collection``) holds a DiagnosticReport, its Observations
(per-class probability, the decision, signal quality, the quantitative EMG
values), the model version as a Device, the pseudonymous Patient and one
DocumentReference per recording file. Entries point at each other through
``urn:uuid:`` fullUrls, so the Bundle stands alone.

Every resource is built with the ``fhir.resources`` models, which check
cardinality, types and value sets of the bound codes as they are constructed: a
Bundle this module returns has passed the library's validation.

We use the library's R4B models: fhir.resources 8 defaults to R5 and ships R4
only as R4B, which for the resources used here (Bundle, DiagnosticReport,
Observation, Device, Patient, DocumentReference) has the same elements and
JSON as R4 4.0.1, so an R4 server reads the output unchanged. The codes and why
they were chosen are in docs/INTEROP.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.device import Device
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.resource import Resource

from clinic.models import Result, UploadFile
from clinic.result_display import result_headline

FHIR_CONTENT_TYPE = "application/fhir+json"

# Our own code system for what no standard terminology names: the model's
# outputs, the report kind and the QEMG measures. The host is a placeholder a
# deployment replaces with a URL it controls.
LOCAL_SYSTEM = "https://myolens.example/fhir/CodeSystem/myolens"
PATIENT_CODE_SYSTEM = "https://myolens.example/fhir/NamingSystem/patient-code"
SHA256_SYSTEM = "https://myolens.example/fhir/NamingSystem/sha256"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

# SNOMED CT concepts for the classes, only where we are sure of the concept;
# "healthy" has no disorder concept, so it keeps the local code alone.
CLASS_SNOMED: dict[str, tuple[str, str]] = {
    "myopathy": ("129565002", "Disorder of muscle"),
    "neuropathy": ("302226006", "Peripheral nerve disease"),
}

# emgcore.qemg_report units -> UCUM; "" (a count or ratio) is the unity "1".
UCUM_UNITS = {"µV": "uV", "ms": "ms", "µV·ms": "uV.ms", "/s": "/s", "%": "%", "": "1"}
FLAG_INTERPRETATION = {
    "low": ("L", "Low"),
    "high": ("H", "High"),
    "within": ("N", "Normal"),
}

DECISION_SUPPORT_NOTE = "Decision support, not a diagnosis."


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def _local(code: str, display: str) -> dict[str, Any]:
    return {"coding": [_coding(LOCAL_SYSTEM, code, display)], "text": display}


def _quantity(value: float, unit: str, code: str | None = None) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code or unit}


def _class_concept(label: str) -> dict[str, Any]:
    """The local code of a model class, with its SNOMED CT concept if we have one."""
    concept = _local(f"class-{label}", label.replace("_", " ").capitalize())
    if label in CLASS_SNOMED:
        code, display = CLASS_SNOMED[label]
        concept["coding"].append(_coding(SNOMED, code, display))
    return concept


class _BundleBuilder:
    """Collects resources and gives each a stable urn:uuid reference."""

    def __init__(self, result: Result) -> None:
        # uuid5 of the result id: the same result always yields the same ids, so
        # a receiver can tell a re-export from a new report.
        self._ns = uuid.uuid5(uuid.NAMESPACE_URL, f"{LOCAL_SYSTEM}/result/{result.pk}")
        self.entries: list[tuple[str, Resource]] = []

    def urn(self, key: str) -> str:
        return f"urn:uuid:{uuid.uuid5(self._ns, key)}"

    def add(self, key: str, resource: Resource) -> dict[str, str]:
        urn = self.urn(key)
        self.entries.append((urn, resource))
        return {"reference": urn}

    def bundle(self, key: str, timestamp: str) -> Bundle:
        return Bundle(
            identifier={"system": "urn:ietf:rfc:3986", "value": self.urn(key)},
            type="collection",
            timestamp=timestamp,
            entry=[{"fullUrl": urn, "resource": res} for urn, res in self.entries],
        )


def _observation(
    code: dict[str, Any],
    *,
    subject: dict,
    device: dict,
    derived_from: list[dict],
    issued: str,
    **fields: Any,
) -> Observation:
    return Observation(
        status="final",
        category=[
            {"coding": [_coding(OBS_CATEGORY, "procedure", "Procedure")]},
        ],
        code=code,
        subject=subject,
        device=device,
        derivedFrom=derived_from,
        issued=issued,
        **fields,
    )


def _decision_value(result: Result) -> tuple[dict[str, Any], str]:
    """The decision as a concept, and a sentence for the reader."""
    if not result.analysable:
        message = (result.gate or {}).get("message") or "The recording was refused."
        return _local("not-analysable", "Not analysable"), message
    if result.label == "inconclusive":
        return (
            _local("inconclusive", "Inconclusive"),
            "Confidence is below the model's minimum; no class is given.",
        )
    return _class_concept(result.label), f"Most consistent with {result.label}."


def _quality_components(quality: dict[str, Any]) -> list[dict[str, Any]]:
    rows = (
        ("clipping_fraction", "quality-clipping", "Clipped samples", 100, "%"),
        ("flat_fraction", "quality-flat", "Samples in flat-line segments", 100, "%"),
        ("line_noise_ratio", "quality-line-noise", "Power-line noise share", 100, "%"),
        ("duration_s", "quality-duration", "Recording duration", 1, "s"),
    )
    out = []
    for key, code, display, scale, unit in rows:
        value = quality.get(key)
        if isinstance(value, int | float):
            out.append(
                {
                    "code": _local(code, display),
                    "valueQuantity": _quantity(round(value * scale, 4), unit),
                }
            )
    return out


def _qemg_observation(row: dict[str, Any], **common: Any) -> Observation:
    unit = UCUM_UNITS.get(row.get("unit") or "", "1")
    fields: dict[str, Any] = {
        "valueQuantity": _quantity(row["value"], row.get("unit") or unit, unit)
    }
    if row.get("low") is not None and row.get("high") is not None:
        fields["referenceRange"] = [
            {
                "low": _quantity(row["low"], row.get("unit") or unit, unit),
                "high": _quantity(row["high"], row.get("unit") or unit, unit),
                "text": "5th-95th percentile in healthy people (pooled muscles, ages)",
            }
        ]
    if row.get("flag") in FLAG_INTERPRETATION:
        code, display = FLAG_INTERPRETATION[row["flag"]]
        fields["interpretation"] = [
            {"coding": [_coding(INTERPRETATION, code, display)]}
        ]
    return _observation(_local(f"qemg-{row['key']}", row["label"]), **common, **fields)


def result_fhir_bundle(result: Result, *, absolute_url: Callable[[str], str]) -> Bundle:
    """The Bundle for one result; ``absolute_url`` turns a path into a URL."""
    job = result.job
    upload = job.upload
    mv = result.model_version
    issued = result.created_at.isoformat()
    b = _BundleBuilder(result)

    patient = b.add(
        "patient",
        # The pseudonym only: the clinic stores no names or birth dates.
        Patient(
            identifier=[{"system": PATIENT_CODE_SYSTEM, "value": upload.patient_code}]
        ),
    )
    device = b.add(
        "device",
        Device(
            identifier=[{"system": SHA256_SYSTEM, "value": mv.sha256}],
            deviceName=[{"name": mv.name, "type": "model-name"}],
            version=[{"value": mv.version}],
            type={"text": "EMG classification software (Myolens model version)"},
            note=[{"text": DECISION_SUPPORT_NOTE}],
        ),
    )
    recordings = [
        b.add(f"file-{f.pk}", _document_reference(f, patient, absolute_url, issued))
        for f in upload.files.all()
    ]
    common = {
        "subject": patient,
        "device": device,
        "derived_from": recordings,
        "issued": issued,
    }

    observations: list[dict] = []
    for label, p in (result.probabilities or {}).items():
        code = _local(f"probability-{label}", f"Model probability of {label}")
        observations.append(
            b.add(
                f"probability-{label}",
                _observation(code, valueQuantity=_quantity(float(p), "1"), **common),
            )
        )
    decision, sentence = _decision_value(result)
    reasons = [r.get("message") for r in (result.gate or {}).get("reasons", [])]
    notes = [{"text": t} for t in [sentence, *filter(None, reasons)]]
    observations.append(
        b.add(
            "decision",
            _observation(
                _local("model-decision", "Model decision"),
                valueCodeableConcept=decision,
                note=notes,
                **common,
            ),
        )
    )
    quality = result.quality or {}
    observations.append(
        b.add(
            "quality",
            _observation(
                _local("signal-quality", "Signal quality"),
                valueString="; ".join(quality.get("warnings") or [])
                or "No signal-quality warnings.",
                component=_quality_components(quality) or None,
                **common,
            ),
        )
    )
    qemg = (result.features or {}).get("qemg") or {}
    for row in qemg.get("rows") or []:
        if row.get("value") is not None:
            observations.append(
                b.add(f"qemg-{row['key']}", _qemg_observation(row, **common))
            )

    headline = result_headline(result)
    conclusion = " ".join(
        filter(None, [sentence, headline["performance"], DECISION_SUPPORT_NOTE])
    )
    report_fields: dict[str, Any] = {}
    if result.analysable and result.label in CLASS_SNOMED:
        report_fields["conclusionCode"] = [_class_concept(result.label)]
    b.entries.insert(
        0,
        (
            b.urn("report"),
            DiagnosticReport(
                identifier=[
                    {"system": f"{LOCAL_SYSTEM}/result", "value": str(result.pk)}
                ],
                status="final",
                category=[
                    {
                        "coding": [
                            _coding(V2_0074, "EN", "Electroneuro (EEG, EMG,EP,PSG)")
                        ]
                    }
                ],
                code=_local("emg-disease-classification", "EMG disease classification"),
                subject=patient,
                effectiveDateTime=upload.created_at.isoformat(),
                issued=issued,
                result=observations,
                conclusion=conclusion,
                **report_fields,
            ),
        ),
    )
    return b.bundle("bundle", issued)


def _document_reference(
    f: UploadFile, patient: dict, absolute_url: Callable[[str], str], issued: str
) -> DocumentReference:
    ext = f.original_name.rsplit(".", 1)[-1].lower() if "." in f.original_name else ""
    url = absolute_url(reverse("api_recording_file", args=[f.upload_id, f.pk]))
    return DocumentReference(
        # The sha256 as an identifier: R4 Attachment.hash is SHA-1, and the
        # clinic addresses files by SHA-256.
        identifier=[{"system": SHA256_SYSTEM, "value": f.sha256}],
        status="current",
        type=_local("emg-recording", "EMG recording file"),
        subject=patient,
        date=issued,
        content=[
            {
                "attachment": {
                    "contentType": "application/octet-stream",
                    "url": url,
                    "size": f.size_bytes,
                    # Not the uploaded name: a file name can carry a person's name.
                    "title": f"EMG recording ({ext or 'file'})",
                }
            }
        ],
    )


def bundle_json(bundle: Bundle) -> str:
    """The Bundle as FHIR JSON (no nulls, as the specification requires)."""
    return bundle.model_dump_json(exclude_none=True)
