"""JSON API /api/v1/gestures (DRF): the same rules as the gesture pages."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes, throttle_classes
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.api import accepted_response, bind_upload_form, require_perm
from clinic.errors import UserFacingError
from clinic.gestures import selectors, services
from clinic.gestures.forms import LAYOUTS, GestureSessionForm
from clinic.gestures.models import MAX_K
from clinic.security import UPLOAD_THROTTLES
from clinic.services.quota import UploadQuotaExceeded


class GestureSessionSerializer(serializers.Serializer):
    """Documents the multipart body; validation is GestureSessionForm."""

    file = serializers.ListField(
        child=serializers.FileField(),
        help_text="Calibration recordings in the layout (repeat the field).",
    )
    base_model = serializers.IntegerField(help_text="id from GET gestures/models")
    layout = serializers.ChoiceField(choices=list(LAYOUTS))
    person_code = serializers.RegexField(r"^[A-Za-z0-9_-]{1,32}$")
    k = serializers.IntegerField(min_value=1, max_value=MAX_K)
    sfreq_hz = serializers.FloatField(required=False, help_text="CSV only")


SessionAccepted = inline_serializer(
    "GestureSessionAccepted",
    {"session_id": serializers.IntegerField(), "status_url": serializers.CharField()},
)
SessionStatus = inline_serializer(
    "GestureSessionStatus",
    {
        "id": serializers.IntegerField(),
        "status": serializers.ChoiceField(
            choices=["QUEUED", "RUNNING", "SUCCEEDED", "FAILED"]
        ),
        "progress": serializers.IntegerField(),
        "epoch": serializers.IntegerField(allow_null=True),
        "history": serializers.ListField(child=serializers.DictField()),
        "error": serializers.CharField(allow_null=True),
        "finished": serializers.BooleanField(),
        "report": serializers.DictField(allow_null=True),
    },
)
GestureModelOut = inline_serializer(
    "GestureModelList",
    {
        "id": serializers.IntegerField(),
        "name": serializers.CharField(),
        "dataset": serializers.CharField(),
        "layout": serializers.CharField(),
        "sha256": serializers.CharField(),
        "class_names": serializers.ListField(child=serializers.CharField()),
    },
    many=True,
)


SessionList = inline_serializer(
    "GestureSessionList",
    {
        "id": serializers.IntegerField(),
        "person_code": serializers.CharField(),
        "status": serializers.CharField(),
        "k": serializers.IntegerField(),
        "base_model": serializers.CharField(),
        "created_at": serializers.DateTimeField(),
        "status_url": serializers.CharField(),
    },
    many=True,
)
MAX_LISTED = 100


@extend_schema(
    methods=["GET"],
    parameters=[
        OpenApiParameter("person", str, description="only this person's sessions")
    ],
    responses={200: SessionList},
    summary=f"Gesture sessions the caller may see, newest first (at most {MAX_LISTED})",
)
@extend_schema(
    methods=["POST"],
    request={"multipart/form-data": GestureSessionSerializer},
    responses={
        202: SessionAccepted,
        400: OpenApiResponse(description="field errors"),
        413: OpenApiResponse(description="over EMG_MAX_UPLOAD_MB"),
    },
    summary="Upload a person's calibration recordings and queue the adaptation",
)
@api_view(["GET", "POST"])
@parser_classes([MultiPartParser, FormParser])
@throttle_classes(UPLOAD_THROTTLES)
def sessions(request: Request) -> Response:
    if request.method == "GET":
        return _sessions_list(request)
    return _sessions_create(request)


def _sessions_list(request: Request) -> Response:
    require_perm(request, "gestures.view_gesturesession")
    rows = selectors.gesture_sessions_list_for_user(
        user=request.user, person_code=request.query_params.get("person", "")[:32]
    )[:MAX_LISTED]
    return Response(
        [
            {
                "id": s.pk,
                "person_code": s.person_code,
                "status": s.status,
                "k": s.k,
                "base_model": s.base_model.name,
                "created_at": s.created_at.isoformat(),
                "status_url": request.build_absolute_uri(
                    reverse("gestures:api_session_detail", args=[s.pk])
                ),
            }
            for s in rows
        ]
    )


def _sessions_create(request: Request) -> Response:
    require_perm(request, "gestures.add_gesturesession")
    form, refused = bind_upload_form(request, GestureSessionForm)
    if refused is not None:
        return refused
    try:
        session = services.gesture_session_create(
            user=request.user, **form.session_fields()
        )
    except UploadQuotaExceeded as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_429_TOO_MANY_REQUESTS)
    except UserFacingError as exc:
        return Response(
            {"errors": {"layout": [str(exc)]}}, status=status.HTTP_400_BAD_REQUEST
        )
    return accepted_response(
        request, "session_id", session.pk, "gestures:api_session_detail"
    )


@extend_schema(
    responses={200: SessionStatus}, summary="Status and report of a gesture session"
)
@api_view(["GET"])
def session_detail(request: Request, session_id: int) -> Response:
    session = selectors.gesture_session_get_for_user(
        user=request.user, session_id=session_id
    )
    return Response(selectors.gesture_session_status_payload(session))


@extend_schema(responses={200: GestureModelOut}, summary="Pretrained gesture models")
@api_view(["GET"])
def models_list(request: Request) -> Response:
    require_perm(request, "gestures.view_gesturemodel")
    return Response(
        [selectors.gesture_model_payload(gm) for gm in selectors.gesture_models_list()]
    )
