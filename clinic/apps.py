from __future__ import annotations

from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Myolens clinic"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from clinic import (
            metrics,
            signals,  # noqa: F401  (connects the audit receivers)
        )
        from clinic.logging_context import request_id_clear

        metrics.register()  # the job and queue metrics of /metrics
        request_finished.connect(
            request_id_clear, dispatch_uid="myolens-request-id-clear"
        )
