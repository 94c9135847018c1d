"""The HTML views of the clinic app, one module per area.

:mod:`.recordings` (uploads, the recording list, a patient), :mod:`.results`
(an analysis job and its result, report, exports, confirmation),
:mod:`.model_versions` (models and governance), :mod:`.retraining`,
:mod:`.audit`, :mod:`.health`; the JSON API is :mod:`clinic.api`. Every view
is re-exported here, so ``clinic.urls`` can name them as ``views.<name>``.

Every view needs a signed-in user (except health). Objects a user may not
see are 404 (the selectors raise it); actions a role may not take are 403.

Thin views (STYLE.md §2): permission -> form -> one service -> render.
"""

from __future__ import annotations

from clinic.views.audit import (
    audit_csv,
    audit_list,
)
from clinic.views.health import (
    health,
)
from clinic.views.model_versions import (
    model_list,
    model_promote,
    model_report,
    model_report_compute,
    model_report_csv,
    model_rollback,
)
from clinic.views.recordings import (
    dashboard,
    patient_detail,
    upload_new,
    upload_reanalyse,
    upload_remove,
)
from clinic.views.results import (
    job_confirm,
    job_detail,
    job_export,
    job_report,
    job_result,
    job_status,
)
from clinic.views.retraining import (
    retraining_cancel,
    retraining_detail,
    retraining_list,
    retraining_new,
    retraining_status,
)

__all__ = [
    "audit_csv",
    "audit_list",
    "dashboard",
    "health",
    "job_confirm",
    "job_detail",
    "job_export",
    "job_report",
    "job_result",
    "job_status",
    "model_list",
    "model_promote",
    "model_report",
    "model_report_compute",
    "model_report_csv",
    "model_rollback",
    "patient_detail",
    "retraining_cancel",
    "retraining_detail",
    "retraining_list",
    "retraining_new",
    "retraining_status",
    "upload_new",
    "upload_reanalyse",
    "upload_remove",
]
