"""Summarise disease-protocol runs into tables, figures and a JSON summary.

Input: the run files :func:`studies.disease_paper.run_protocol` wrote
(``<runs>/<protocol>/<method>/seed<k>_<fold>.json``). Output: one JSON summary
(mean ± sd over seeds per protocol and method, per-class metrics with
bootstrap CIs, calibration) and PNG figures. Nothing here trains a model.

The package is split in two; every name is re-exported here, so
``from studies.disease_report import ...`` works as before: :mod:`.summary`
(run files to the JSON summary) and :mod:`.render` (figures and Markdown).
"""

from __future__ import annotations

from studies.disease_report.render import (
    METHOD_LABELS,
    render_markdown,
    write_figures,
)
from studies.disease_report.summary import (
    CLASSIC_METHODS,
    PAPER_TABLE,
    SUMMARY_METRICS,
    _complete_seeds,
    best_transfer_method,
    choose_default,
    summarise,
)

__all__ = [
    "CLASSIC_METHODS",
    "METHOD_LABELS",
    "PAPER_TABLE",
    "SUMMARY_METRICS",
    "best_transfer_method",
    "choose_default",
    "render_markdown",
    "summarise",
    "write_figures",
    "_complete_seeds",
]
