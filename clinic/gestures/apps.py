from __future__ import annotations

from django.apps import AppConfig


class GesturesConfig(AppConfig):
    name = "clinic.gestures"
    label = "gestures"
    verbose_name = "Myolens gesture adaptation"
    default_auto_field = "django.db.models.BigAutoField"
