from __future__ import annotations

from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Myolens clinic"

    def ready(self) -> None:
        from clinic import (
            metrics,
            signals,  # noqa: F401  (connects the audit receivers)
        )

        metrics.register()  # the job and queue metrics of /metrics
