"""Server-side plotly figure of a session report; the browser only renders it."""

from __future__ import annotations

import json
from typing import Any


def _row_share(matrix: list[list[int]]) -> list[list[float | None]]:
    """Each row divided by its sum (the share of a true class's windows)."""
    out: list[list[float | None]] = []
    for row in matrix:
        total = sum(row)
        out.append([round(v / total, 3) if total else None for v in row])
    return out


def confusion_figure(report: dict[str, Any]) -> dict[str, Any] | None:
    """Confusion matrices before and after adaptation, side by side.

    Rows are the true gesture, columns the predicted one; colour is the share
    of that gesture's held-back windows, the text the window count. Returns
    plotly's JSON as a dict, or None when the report has no matrices.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    classes = report.get("class_names") or []
    before, after = report.get("confusion_before"), report.get("confusion_after")
    if not classes or not before or not after:
        return None

    def title(name: str, key: str) -> str:
        acc = report.get(key)
        return f"{name} (accuracy {acc:.0%})" if acc is not None else name

    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.14,
        subplot_titles=[
            title("Before adaptation", "accuracy_before"),
            title("After adaptation", "accuracy_after"),
        ],
    )
    for col, matrix in ((1, before), (2, after)):
        fig.add_trace(
            go.Heatmap(
                z=_row_share(matrix),
                x=classes,
                y=classes,
                text=matrix,
                texttemplate="%{text}",
                zmin=0,
                zmax=1,
                colorscale="Blues",
                showscale=col == 2,
                colorbar={"title": {"text": "share of<br>true class"}},
                hovertemplate="true %{y}<br>predicted %{x}<br>%{text} windows"
                "<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text="predicted gesture", tickangle=-40, row=1, col=col)
        fig.update_yaxes(autorange="reversed", row=1, col=col)
    fig.update_yaxes(title_text="true gesture", row=1, col=1)
    fig.update_layout(
        height=520,
        margin={"l": 120, "r": 20, "t": 50, "b": 120},
        template="plotly_white",
    )
    return json.loads(fig.to_json())
