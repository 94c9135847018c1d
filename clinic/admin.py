"""Django admin for operators; business actions stay in services and pages."""

from __future__ import annotations

from django.contrib import admin

from clinic import models


@admin.register(models.Team)
class TeamAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(models.Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "team"]
    list_filter = ["team"]


class UploadFileInline(admin.TabularInline):
    model = models.UploadFile
    extra = 0
    can_delete = False
    readonly_fields = ["file", "original_name", "size_bytes", "sha256"]


@admin.register(models.Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "patient_code",
        "muscle",
        "team",
        "uploaded_by",
        "created_at",
        "removed_at",
    ]
    list_filter = ["team", "electrode_type", ("removed_at", admin.EmptyFieldListFilter)]
    search_fields = ["patient_code"]
    inlines = [UploadFileInline]
    readonly_fields = [
        "uploaded_by",
        "created_at",
        "removed_at",
        "removed_by",
        "removal_reason",
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Uploads are only ever removed softly, audited, from the app's removal
        # page (admins hold delete_upload for that): nothing stored is lost.
        return False


@admin.register(models.AnalysisJob)
class AnalysisJobAdmin(admin.ModelAdmin):
    list_display = ["id", "upload", "status", "progress", "created_at", "finished_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in models.AnalysisJob._meta.fields]


@admin.register(models.ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    # Promotion and rollback go through the registry page (metrics checks, audit).
    list_display = ["name", "version", "kind", "status", "is_active", "created_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [
        "sha256",
        "checkpoint_path",
        "metadata",
        "is_active",
        "status",
        "previous_active",
        "activated_at",
        "report_cache",
        "created_at",
    ]


@admin.register(models.RetrainingRun)
class RetrainingRunAdmin(admin.ModelAdmin):
    # Runs are started and cancelled on the retraining pages (queue, audit).
    list_display = ["id", "base_model", "method", "status", "progress", "created_at"]
    list_filter = ["status", "method"]
    readonly_fields = [f.name for f in models.RetrainingRun._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(models.AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action"]
    search_fields = ["actor__username", "object_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
