"""Server-side plotly figures; the browser only renders them with plotly.js."""

from __future__ import annotations

import json
from typing import Any

from clinic.models import Result

CLASS_COLOURS = {
    "healthy": "#2a9d8f",
    "myopathy": "#e76f51",
    "neuropathy": "#6a4c93",
}


def result_figure(result: Result) -> dict[str, Any]:
    """Raw and filtered signal (one row per channel shown) above the per-window
    class probabilities; returns plotly's JSON as a dict."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    preview = result.signal_preview or {}
    channels = preview.get("channels", [])
    n_rows = len(channels) + 1
    titles = [
        f"{c['name']} ({c['unit']})"
        + (" - decimated (min/max per bin)" if preview.get("decimated") else "")
        for c in channels
    ] + ["Class probability per analysis window"]
    fig = make_subplots(
        rows=n_rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=titles,
        row_heights=[1.0] * len(channels) + [0.8],
    )
    band = preview.get("band_hz")
    filtered_name = f"filtered {band[0]:g}-{band[1]:g} Hz" if band else "filtered"
    for row, ch in enumerate(channels, start=1):
        fig.add_trace(
            go.Scatter(
                x=ch["t_s"],
                y=ch["raw"],
                name="raw",
                mode="lines",
                line={"color": "#b8c0cc", "width": 1},
                legendgroup="raw",
                showlegend=row == 1,
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=ch["t_s"],
                y=ch["filtered"],
                name=filtered_name,
                mode="lines",
                line={"color": "#1d4e89", "width": 1},
                legendgroup="filtered",
                showlegend=row == 1,
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text=ch["unit"], row=row, col=1)
    windows = result.windows or []
    classes = list(result.probabilities)
    for cls in classes:
        xs: list[float | None] = []
        ys: list[float | None] = []
        for w in windows:
            p = (w.get("probabilities") or {}).get(cls)
            xs.extend([w.get("start_s"), w.get("stop_s"), None])
            ys.extend([p, p, None])
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                name=cls,
                mode="lines",
                line={"color": CLASS_COLOURS.get(cls), "width": 2},
            ),
            row=n_rows,
            col=1,
        )
    min_conf = (result.model_version.metadata or {}).get("min_confidence")
    if min_conf is not None:
        fig.add_hline(
            y=min_conf,
            line_dash="dot",
            line_color="#888",
            annotation_text="minimum confidence",
            row=n_rows,
            col=1,
        )
    fig.update_yaxes(range=[0, 1], title_text="probability", row=n_rows, col=1)
    fig.update_xaxes(title_text="time (s)", row=n_rows, col=1)
    fig.update_layout(
        height=260 * len(channels) + 260,
        margin={"l": 60, "r": 20, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.12},
        template="plotly_white",
    )
    return json.loads(fig.to_json())
