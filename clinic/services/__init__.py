"""The write side of the clinic (STYLE.md §1): the only place that calls emgcore
and enqueues Celery tasks. Import services from here."""

from __future__ import annotations

from clinic.services.analysis import (  # noqa: F401
    analysis_request,
    analysis_run,
    model_version_active,
    model_version_checkpoint_verified,
    signal_preview,
)
from clinic.services.audit import audit_export_csv, audit_record  # noqa: F401
from clinic.services.health import (  # noqa: F401
    HEARTBEAT_INTERVAL,
    queues_report,
    worker_heartbeat_record,
    worker_heartbeat_request,
)
from clinic.services.models_registry import (  # noqa: F401
    model_version_import,
    model_version_promote,
    model_version_promotion_problems,
    model_version_register,
    model_version_rollback,
)
from clinic.services.removal import (  # noqa: F401
    upload_may_remove,
    upload_removal_problem,
    upload_remove,
)
from clinic.services.reports import (  # noqa: F401
    model_version_report,
    model_version_report_compute,
    model_version_report_export,
    model_version_report_request,
    model_version_report_run,
    report_job,
)
from clinic.services.retraining import (  # noqa: F401
    retraining_cancel,
    retraining_run,
    retraining_start,
)
from clinic.services.uploads import (  # noqa: F401
    confirmed_diagnosis_create,
    result_as_dict,
    result_export,
    result_fhir_export,
    result_view_record,
    upload_create,
    upload_file_download,
)
