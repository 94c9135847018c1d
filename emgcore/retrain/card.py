"""The per-class table of a disease model card (Markdown).

The default model's card and a retrained candidate's card show the same
table, so both build it here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Columns of the table after the class name: (heading, metric key).
CARD_COLUMNS = (
    ("sensitivity", "sensitivity"),
    ("specificity", "specificity"),
    ("precision", "precision"),
    ("F1", "f1"),
    ("AUC", "auc"),
)


def per_class_table(
    per_class: Mapping[str, Mapping[str, Any]], class_names: Sequence[str]
) -> list[str]:
    """Markdown lines: a header and one row per class, each value with its CI."""
    lines = [
        "| class | " + " | ".join(h for h, _ in CARD_COLUMNS) + " |",
        "|---" * (len(CARD_COLUMNS) + 1) + "|",
    ]
    for c in class_names:
        pc = per_class[c]
        cells = " | ".join(metric_with_ci(pc, key) for _, key in CARD_COLUMNS)
        lines.append(f"| {c} | {cells} |")
    return lines


def metric_with_ci(pc: Mapping[str, Any], name: str, *, value_digits: int = 2) -> str:
    """``0.81 [0.70, 0.90]``; the value alone without a CI; ``n/a`` when absent.

    The CI always has two decimals; the value ``value_digits``.
    """
    value = pc.get(name)
    if value is None:
        return "n/a"
    ci = pc.get(f"{name}_ci")
    shown = f"{value:.{value_digits}f}"
    return f"{shown} [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else shown
