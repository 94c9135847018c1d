"""JSON API /api/v1 (DRF): token or session auth, the same rules as the pages.

Views stay thin: they check the permission, validate with the same form as the
web page, call one service and return JSON.
"""

from __future__ import annotations

from django.forms import Form
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes, throttle_classes
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from clinic import selectors, services
from clinic.errors import UserFacingError
from clinic.fhir import FHIR_CONTENT_TYPE
from clinic.forms import RetrainingForm, UploadForm, upload_request_too_large
from clinic.models import ModelVersion, Upload
from clinic.result_display import result_headline
from clinic.security import UPLOAD_THROTTLES
from clinic.services.quota import UploadQuotaExceeded
from clinic.stored_files import StoredFileError


def require_perm(request: Request, perm: str) -> None:
    """403 with a plain reason unless the user's role grants ``perm``."""
    if not request.user.has_perm(perm):
        raise PermissionDenied("Your role may not do this.")


class RecordingUploadSerializer(serializers.Serializer):
    """Documents the multipart body; validation is clinic.forms.UploadForm."""

    file = serializers.ListField(
        child=serializers.FileField(),
        help_text="One file, or a WFDB .hea and .dat pair (repeat the field).",
    )
    patient_code = serializers.RegexField(r"^[A-Za-z0-9_-]{1,32}$")
    muscle = serializers.CharField(required=False)
    side = serializers.ChoiceField(choices=Upload.Side.choices, required=False)
    electrode_type = serializers.ChoiceField(
        choices=Upload.ElectrodeType.choices, required=False
    )
    notes = serializers.CharField(required=False)
    sfreq_hz = serializers.FloatField(required=False, help_text="for CSV without time")


JobAccepted = inline_serializer(
    "JobAccepted",
    {"job_id": serializers.IntegerField(), "status_url": serializers.CharField()},
)
ModelSummary = inline_serializer(
    "ModelSummary",
    {
        "name": serializers.CharField(),
        "version": serializers.CharField(),
        "sha256": serializers.CharField(),
    },
)
JobResult = inline_serializer(
    "JobResult",
    {
        "probabilities": serializers.DictField(
            child=serializers.FloatField(),
            allow_null=True,
            help_text="null when the label is not_analysable",
        ),
        "label": serializers.CharField(
            help_text="a class, inconclusive, or not_analysable (no diagnosis)"
        ),
        "confidence": serializers.FloatField(allow_null=True),
        "analysable": serializers.BooleanField(),
        "message": serializers.CharField(allow_null=True),
        "reasons": serializers.ListField(child=serializers.CharField()),
        "excluded_s": serializers.FloatField(allow_null=True),
        "excluded_fraction": serializers.FloatField(allow_null=True),
        "qemg": serializers.JSONField(
            allow_null=True,
            help_text="quantitative EMG rows (value, healthy range, flag) or a note",
        ),
        "model": ModelSummary,
        "performance": serializers.CharField(
            allow_null=True,
            help_text="the model's performance on new people in plain words "
            "(null for inconclusive and not_analysable)",
        ),
        "in_training_data": serializers.BooleanField(
            help_text="true when an uploaded file is one of the model's "
            "training recordings (sha256)"
        ),
    },
)
JobStatus = inline_serializer(
    "JobStatus",
    {
        "id": serializers.IntegerField(),
        "status": serializers.ChoiceField(
            choices=["QUEUED", "RUNNING", "SUCCEEDED", "FAILED"]
        ),
        "progress": serializers.IntegerField(),
        "error": serializers.CharField(allow_null=True),
        "finished": serializers.BooleanField(),
        "result": JobResult,
    },
)


def _model_version_fields() -> dict:
    return {
        "id": serializers.IntegerField(),
        "name": serializers.CharField(),
        "version": serializers.CharField(),
        "kind": serializers.CharField(),
        "status": serializers.CharField(),
        "is_active": serializers.BooleanField(),
        "sha256": serializers.CharField(),
        "created_at": serializers.DateTimeField(),
        "metrics": serializers.DictField(),
    }


ModelVersionOut = inline_serializer("ModelVersionInfo", _model_version_fields())
ModelVersionListOut = inline_serializer(
    "ModelVersionList", _model_version_fields(), many=True
)


def accepted_response(request, id_key: str, pk: int, detail_url: str) -> Response:
    """202 for queued work: its id and the absolute URL to poll."""
    return Response(
        {
            id_key: pk,
            "status_url": request.build_absolute_uri(reverse(detail_url, args=[pk])),
        },
        status=status.HTTP_202_ACCEPTED,
    )


def bind_upload_form(
    request: Request, form_class: type[Form], **form_kwargs
) -> tuple[Form | None, Response | None]:
    """The web page's form bound to a multipart upload, or the 413/400 refusal.

    The API repeats the field ``file``; the forms call it ``files``, so the
    files go in and the field errors come out under the API's name.
    """
    too_large = upload_request_too_large(request.META.get("CONTENT_LENGTH"))
    if too_large:
        return None, Response(
            {"errors": {"file": [too_large]}},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    files = MultiValueDict({"files": request.FILES.getlist("file")})
    form = form_class(request.POST, files, **form_kwargs)
    if not form.is_valid():
        errors = {("file" if k == "files" else k): v for k, v in form.errors.items()}
        return None, Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
    return form, None


@extend_schema(
    request={"multipart/form-data": RecordingUploadSerializer},
    responses={
        202: JobAccepted,
        400: OpenApiResponse(description="field errors"),
        413: OpenApiResponse(description="over EMG_MAX_UPLOAD_MB"),
    },
    summary="Upload a recording and queue its analysis",
)
@api_view(["POST"])
@parser_classes([MultiPartParser, FormParser])
@throttle_classes(UPLOAD_THROTTLES)
def recordings_create(request: Request) -> Response:
    require_perm(request, "clinic.add_upload")
    form, refused = bind_upload_form(request, UploadForm, metadata_required=False)
    if refused is not None:
        return refused
    try:
        job = services.upload_create(user=request.user, **form.upload_fields())
    except UploadQuotaExceeded as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_429_TOO_MANY_REQUESTS)
    return accepted_response(request, "job_id", job.pk, "api_job_detail")


@extend_schema(responses={200: JobStatus}, summary="Status and result of a job")
@api_view(["GET"])
def job_detail(request: Request, job_id: int) -> Response:
    job = selectors.job_get_for_user(user=request.user, job_id=job_id)
    payload = selectors.job_status_payload(job)
    if payload["result"] is not None:
        headline = result_headline(job.result)
        payload["result"]["performance"] = headline["performance"]
        payload["result"]["in_training_data"] = bool(headline["training_matches"])
    return Response(payload)


@extend_schema(
    responses={
        (200, FHIR_CONTENT_TYPE): OpenApiResponse(
            description="a FHIR R4 Bundle (collection): DiagnosticReport, "
            "Observations, Device, Patient, DocumentReferences"
        ),
        403: OpenApiResponse(description="the role may not export results"),
        404: OpenApiResponse(description="no such result, or not visible"),
    },
    summary="A result as a FHIR R4 Bundle (audited as an export)",
)
@api_view(["GET"])
def result_fhir(request: Request, result_id: int) -> HttpResponse:
    require_perm(request, "clinic.export_result")
    result = selectors.result_get_for_user(user=request.user, result_id=result_id)
    content = services.result_fhir_export(
        user=request.user, result=result, absolute_url=request.build_absolute_uri
    )
    # A plain HttpResponse: DRF's renderers would negotiate the FHIR type away.
    return HttpResponse(content, content_type=FHIR_CONTENT_TYPE)


@extend_schema(
    responses={
        (200, "application/octet-stream"): OpenApiResponse(
            description="the stored bytes, as uploaded"
        ),
        403: OpenApiResponse(description="the role may not export results"),
        404: OpenApiResponse(description="no such file, or not visible"),
    },
    summary="Download one recording file (audited as an export)",
)
@api_view(["GET"])
def recording_file(request: Request, upload_id: int, file_id: int) -> FileResponse:
    require_perm(request, "clinic.export_result")
    upload_file = selectors.upload_file_get_for_user(
        user=request.user, upload_id=upload_id, file_id=file_id
    )
    try:
        handle = services.upload_file_download(
            user=request.user, upload_file=upload_file
        )
    except StoredFileError as exc:
        # Missing or altered in storage: say so rather than send wrong bytes.
        return Response({"detail": str(exc)}, status=500)
    return FileResponse(
        handle,
        as_attachment=True,
        # The content hash, not the uploaded name, which may identify a person.
        filename=upload_file.file.name.rsplit("/", 1)[-1],
        content_type="application/octet-stream",
    )


def _model_payload(mv: ModelVersion) -> dict:
    return {
        "id": mv.pk,
        "name": mv.name,
        "version": mv.version,
        "kind": mv.kind,
        "status": mv.status,
        "is_active": mv.is_active,
        "sha256": mv.sha256,
        "created_at": mv.created_at.isoformat(),
        "min_confidence": (mv.metadata or {}).get("min_confidence"),
        "class_names": (mv.metadata or {}).get("class_names", []),
        "metrics": selectors.model_version_class_metrics(mv),
    }


@extend_schema(responses={200: ModelVersionListOut}, summary="Model versions")
@api_view(["GET"])
def models_list(request: Request) -> Response:
    require_perm(request, "clinic.view_modelversion")
    return Response([_model_payload(mv) for mv in selectors.model_versions_list()])


ModelActionIn = inline_serializer(
    "ModelActionIn",
    {"reason": serializers.CharField(help_text="why; kept in the audit trail")},
)


def _model_action(request: Request, model_version_id: int, action) -> Response:
    require_perm(request, "clinic.promote_modelversion")
    mv = selectors.model_version_get(model_version_id=model_version_id)
    reason = str((request.data or {}).get("reason") or "").strip()
    if len(reason) < 5:
        return Response(
            {
                "error": "Give a reason of at least 5 characters ('reason'); it is "
                "kept in the audit trail."
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    try:
        active = action(actor=request.user, model_version=mv, reason=reason)
    except UserFacingError as exc:
        return Response({"error": str(exc)}, status=status.HTTP_409_CONFLICT)
    return Response({"active": _model_payload(active)})


ModelActionOut = inline_serializer("ModelAction", {"active": ModelVersionOut})


@extend_schema(
    request=ModelActionIn,
    responses={200: ModelActionOut, 409: OpenApiResponse(description="refused")},
    summary="Promote a version (admins; needs a subject-held-out evaluation "
    "of enough people and the minimum per-class metrics)",
)
@api_view(["POST"])
def model_promote(request: Request, model_version_id: int) -> Response:
    return _model_action(request, model_version_id, services.model_version_promote)


@extend_schema(
    request=ModelActionIn,
    responses={200: ModelActionOut, 409: OpenApiResponse(description="refused")},
    summary="Roll the active version back to the one it replaced (admins)",
)
@api_view(["POST"])
def model_rollback(request: Request, model_version_id: int) -> Response:
    return _model_action(request, model_version_id, services.model_version_rollback)


class RetrainingStartSerializer(serializers.Serializer):
    """Documents the body; validation is clinic.forms.RetrainingForm."""

    base_model = serializers.IntegerField(help_text="id of a disease ModelVersion")
    use_emgdb = serializers.BooleanField(required=False, default=True)
    use_n2001 = serializers.BooleanField(required=False, default=False)
    use_confirmed = serializers.BooleanField(required=False, default=False)
    method = serializers.ChoiceField(choices=["tl", "scratch"], required=False)
    epochs = serializers.IntegerField(min_value=1, max_value=200, required=False)
    learning_rate = serializers.FloatField(required=False)
    seed = serializers.IntegerField(min_value=0, required=False)


RetrainingAccepted = inline_serializer(
    "RetrainingAccepted",
    {"run_id": serializers.IntegerField(), "status_url": serializers.CharField()},
)
RetrainingStatus = inline_serializer(
    "RetrainingStatus",
    {
        "id": serializers.IntegerField(),
        # A plain string: an enum here would collide with the job's "status".
        "status": serializers.CharField(
            help_text="QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED"
        ),
        "progress": serializers.IntegerField(),
        "epochs": serializers.IntegerField(),
        "history": serializers.ListField(child=serializers.DictField()),
        "error": serializers.CharField(allow_null=True),
        "cancel_requested": serializers.BooleanField(),
        "finished": serializers.BooleanField(),
        "candidate": serializers.DictField(allow_null=True),
    },
)


@extend_schema(
    request={
        "application/json": RetrainingStartSerializer,
        "multipart/form-data": RetrainingStartSerializer,
    },
    responses={
        202: RetrainingAccepted,
        400: OpenApiResponse(description="field errors"),
    },
    summary="Start a retraining run on the training queue (admins)",
)
@api_view(["POST"])
@parser_classes([JSONParser, MultiPartParser, FormParser])
def retraining_create(request: Request) -> Response:
    require_perm(request, "clinic.add_retrainingrun")
    data = dict(request.data.items())
    data.setdefault("use_emgdb", True)
    defaults = {"method": "tl", "epochs": 5, "learning_rate": 1e-4, "seed": 0}
    for key, value in defaults.items():
        data.setdefault(key, value)
    # Django forms read unchecked boxes as absent: drop false values.
    for key in ("use_emgdb", "use_n2001", "use_confirmed"):
        if str(data.get(key)).lower() in ("false", "0", "", "none"):
            data.pop(key, None)
    form = RetrainingForm(data)
    if not form.is_valid():
        return Response({"errors": form.errors}, status=status.HTTP_400_BAD_REQUEST)
    try:
        run = services.retraining_start(user=request.user, **form.cleaned_data)
    except UserFacingError as exc:
        return Response(
            {"errors": {"__all__": [str(exc)]}}, status=status.HTTP_400_BAD_REQUEST
        )
    return accepted_response(request, "run_id", run.pk, "api_retraining_detail")


@extend_schema(responses={200: RetrainingStatus}, summary="Progress of a retraining")
@api_view(["GET"])
def retraining_detail(request: Request, run_id: int) -> Response:
    require_perm(request, "clinic.view_retrainingrun")
    run = selectors.retraining_run_get_for_user(user=request.user, run_id=run_id)
    return Response(selectors.retraining_status_payload(run))
