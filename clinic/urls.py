from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from clinic import api, views
from clinic.metrics import metrics_view

auth_patterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

api_patterns = [
    path("recordings", api.recordings_create, name="api_recordings"),
    path(
        "recordings/<int:upload_id>/files/<int:file_id>",
        api.recording_file,
        name="api_recording_file",
    ),
    path("jobs/<int:job_id>", api.job_detail, name="api_job_detail"),
    path("results/<int:result_id>/fhir", api.result_fhir, name="api_result_fhir"),
    path("models", api.models_list, name="api_models"),
    path(
        "models/<int:model_version_id>/promote",
        api.model_promote,
        name="api_model_promote",
    ),
    path(
        "models/<int:model_version_id>/rollback",
        api.model_rollback,
        name="api_model_rollback",
    ),
    path("retraining", api.retraining_create, name="api_retraining"),
    path(
        "retraining/<int:run_id>", api.retraining_detail, name="api_retraining_detail"
    ),
    path("schema", SpectacularAPIView.as_view(), name="api_schema"),
]

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path(
        "patients/<str:patient_code>/",
        views.patient_detail,
        name="patient_detail",
    ),
    path("uploads/new/", views.upload_new, name="upload_new"),
    path(
        "uploads/<int:upload_id>/remove/",
        views.upload_remove,
        name="upload_remove",
    ),
    path(
        "uploads/<int:upload_id>/reanalyse/",
        views.upload_reanalyse,
        name="upload_reanalyse",
    ),
    path("jobs/<int:job_id>/", views.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/status/", views.job_status, name="job_status"),
    path("jobs/<int:job_id>/result/", views.job_result, name="job_result"),
    path("jobs/<int:job_id>/report/", views.job_report, name="job_report"),
    path(
        "jobs/<int:job_id>/export.json",
        views.job_export,
        {"fmt": "json"},
        name="job_export_json",
    ),
    path(
        "jobs/<int:job_id>/export.csv",
        views.job_export,
        {"fmt": "csv"},
        name="job_export_csv",
    ),
    path("jobs/<int:job_id>/confirm/", views.job_confirm, name="job_confirm"),
    path("models/", views.model_list, name="model_list"),
    path(
        "models/<int:model_version_id>/promote/",
        views.model_promote,
        name="model_promote",
    ),
    path(
        "models/<int:model_version_id>/rollback/",
        views.model_rollback,
        name="model_rollback",
    ),
    path(
        "models/<int:model_version_id>/report/",
        views.model_report,
        name="model_report",
    ),
    path(
        "models/<int:model_version_id>/report/compute/",
        views.model_report_compute,
        name="model_report_compute",
    ),
    path(
        "models/<int:model_version_id>/report.csv",
        views.model_report_csv,
        name="model_report_csv",
    ),
    path("retraining/", views.retraining_list, name="retraining_list"),
    path("retraining/new/", views.retraining_new, name="retraining_new"),
    path("retraining/<int:run_id>/", views.retraining_detail, name="retraining_detail"),
    path(
        "retraining/<int:run_id>/status/",
        views.retraining_status,
        name="retraining_status",
    ),
    path(
        "retraining/<int:run_id>/cancel/",
        views.retraining_cancel,
        name="retraining_cancel",
    ),
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/export.csv", views.audit_csv, name="audit_csv"),
    path("accounts/", include(auth_patterns)),
    path("api/v1/", include(api_patterns)),
    path("health/", views.health, name="health"),
    # Prometheus; allowed addresses or a bearer token only (clinic/metrics.py).
    path("metrics", metrics_view, name="metrics"),
    path("", include("clinic.gestures.urls")),
    path("admin/", admin.site.urls),
]
