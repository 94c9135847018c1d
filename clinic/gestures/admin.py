"""Django admin for the gesture section: read-mostly; work goes through services."""

from __future__ import annotations

from django.contrib import admin

from clinic.gestures import models


@admin.register(models.GestureModel)
class GestureModelAdmin(admin.ModelAdmin):
    list_display = ["name", "dataset", "layout", "is_enabled", "created_at"]
    list_filter = ["dataset", "is_enabled"]
    readonly_fields = [
        "name",
        "dataset",
        "layout",
        "checkpoint_path",
        "sha256",
        "metadata",
        "model_card",
        "created_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False  # registered with `manage.py import_gesture_checkpoint`


class GestureCalibrationFileInline(admin.TabularInline):
    model = models.GestureCalibrationFile
    extra = 0
    can_delete = False
    readonly_fields = ["file", "original_name", "size_bytes", "sha256"]


@admin.register(models.GestureSession)
class GestureSessionAdmin(admin.ModelAdmin):
    list_display = ["id", "person_code", "base_model", "k", "status", "created_at"]
    list_filter = ["status", "team"]
    search_fields = ["person_code"]
    inlines = [GestureCalibrationFileInline]
    readonly_fields = [f.name for f in models.GestureSession._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
