"""Evaluation protocols for gesture adaptation, resumable and JSON-first.

Every protocol is a function returning a JSON-serialisable dict. The
inter-subject experiment writes one JSON file per unit of work
``(fold, target, method, k)`` as it goes, and skips units whose file exists,
so an interrupted run continues where it stopped.

Reduced leave-one-subject-out scheme (CPU budget, documented in
docs/experiments/2026-12-01-results-notebook.md): a list of *target*
subjects is split into ``n_folds`` folds; for each fold one source model is
pretrained on every other subject (the fold's targets are never seen in
pretraining), and each target of the fold is then adapted and tested on its
own. With ``n_folds == len(targets)`` this is plain leave-one-subject-out.

Study code (``python -m studies gesture experiment``), apart from the runtime
gesture library :mod:`emgcore.gesture` it drives. The package is split by
protocol; every name is re-exported here: :mod:`.inter_subject`,
:mod:`.within_subject`, :mod:`.summary` and :mod:`.config` (the options of
each protocol, one frozen dataclass each) (and :func:`pick_targets`, which
``python -m emgcore gesture pretrain`` shares, from :mod:`emgcore.gesture.api`).
"""

from __future__ import annotations

from emgcore.gesture.api import pick_targets
from emgcore.gesture.core import ADAPT_METHODS
from studies.gesture.config import (
    AdaptSettings,
    InterSessionConfig,
    InterSubjectConfig,
    PercentConfig,
)
from studies.gesture.inter_subject import (
    _testable_targets,
    make_folds,
    run_inter_subject,
)
from studies.gesture.summary import (
    METHOD_LABELS,
    METHODS,
    paired_markdown,
    plot_summary,
    summarise,
    summary_markdown,
)
from studies.gesture.within_subject import (
    run_inter_session,
    run_intra_subject,
    run_percent,
)

__all__ = [
    "ADAPT_METHODS",
    "AdaptSettings",
    "InterSessionConfig",
    "InterSubjectConfig",
    "PercentConfig",
    "METHOD_LABELS",
    "METHODS",
    "make_folds",
    "pick_targets",
    "plot_summary",
    "run_inter_session",
    "run_inter_subject",
    "run_intra_subject",
    "run_percent",
    "summarise",
    "paired_markdown",
    "summary_markdown",
    "_testable_targets",
]
