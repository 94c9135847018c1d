"""Routes of the gesture section (pages under /gestures/, API under
/api/v1/gestures/); included once from clinic.urls."""

from __future__ import annotations

from django.urls import path

from clinic.gestures import api, views

app_name = "gestures"

urlpatterns = [
    path("gestures/", views.session_list, name="session_list"),
    path("gestures/new/", views.session_new, name="session_new"),
    path("gestures/models/", views.model_list, name="model_list"),
    path("gestures/<int:session_id>/", views.session_detail, name="session_detail"),
    path(
        "gestures/<int:session_id>/status/",
        views.session_status,
        name="session_status",
    ),
    path(
        "gestures/<int:session_id>/checkpoint.pt",
        views.session_checkpoint,
        name="session_checkpoint",
    ),
    path("api/v1/gestures/sessions", api.sessions, name="api_sessions"),
    path(
        "api/v1/gestures/sessions/<int:session_id>",
        api.session_detail,
        name="api_session_detail",
    ),
    path("api/v1/gestures/models", api.models_list, name="api_models"),
]
