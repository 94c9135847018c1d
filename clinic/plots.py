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


def unit_text(unit: str | None) -> str:
    """A signal unit as people write it: 'uV' (ASCII in WFDB headers) -> 'µV'."""
    return {"uv": "µV", "mv": "mV", "v": "V"}.get(str(unit or "").lower(), unit or "")


def result_figure(result: Result) -> dict[str, Any]:
    """Raw and filtered signal (one row per channel shown) above the per-window
    class probabilities; returns plotly's JSON as a dict."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    preview = result.signal_preview or {}
    channels = preview.get("channels", [])
    n_rows = len(channels) + 1
    titles = [
        f"{c['name']} ({unit_text(c['unit'])})"
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
        # The raw trace in grey under the filtered one; one legend entry each.
        for key, name, colour in (
            ("raw", "raw", "#b8c0cc"),
            ("filtered", filtered_name, "#1d4e89"),
        ):
            fig.add_trace(
                go.Scatter(
                    x=ch["t_s"],
                    y=ch[key],
                    name=name,
                    mode="lines",
                    line={"color": colour, "width": 1},
                    legendgroup=key,
                    showlegend=row == 1,
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(title_text=unit_text(ch["unit"]), row=row, col=1)
    windows = result.windows or []
    classes = list(result.probabilities or {})  # None: not analysable
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


def _layout(fig, title: str, height: int = 360) -> dict[str, Any]:
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        height=height,
        margin={"l": 60, "r": 20, "t": 40, "b": 50},
        template="plotly_white",
    )
    return json.loads(fig.to_json())


def _diagonal(name: str):
    """The dashed y = x reference line (chance for ROC, perfect calibration)."""
    import plotly.graph_objects as go

    return go.Scatter(
        x=[0, 1],
        y=[0, 1],
        mode="lines",
        line={"dash": "dash", "color": "#999"},
        name=name,
    )


def confusion_figure(
    matrix: list[list[int]], class_names: list[str], title: str
) -> dict[str, Any]:
    """Heatmap of a confusion matrix (rows true, columns predicted)."""
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=[f"predicted {c}" for c in class_names],
            y=[f"true {c}" for c in class_names],
            colorscale="Blues",
            text=matrix,
            texttemplate="%{text}",
            showscale=False,
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title)


def roc_figure(
    roc: dict[str, dict[str, list[float]]], aucs: dict[str, float | None], title: str
) -> dict[str, Any]:
    """One-vs-rest ROC curves, one line per class."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(_diagonal("chance"))
    for cls, pts in roc.items():
        auc = aucs.get(cls)
        fig.add_trace(
            go.Scatter(
                x=pts["fpr"],
                y=pts["tpr"],
                mode="lines",
                name=f"{cls}" + (f" (AUC {auc:.2f})" if auc is not None else ""),
                line={"color": CLASS_COLOURS.get(cls), "width": 2},
            )
        )
    fig.update_xaxes(title_text="1 - specificity", range=[0, 1])
    fig.update_yaxes(title_text="sensitivity", range=[0, 1.02])
    return _layout(fig, title)


def reliability_figure(reliability: dict[str, Any], title: str) -> dict[str, Any]:
    """Mean confidence vs accuracy per confidence bin, with the diagonal."""
    import plotly.graph_objects as go

    conf = reliability.get("confidence") or []
    acc = reliability.get("accuracy") or []
    counts = reliability.get("counts") or []
    pts = [
        (c, a, n) for c, a, n in zip(conf, acc, counts, strict=False) if c is not None
    ]
    fig = go.Figure()
    fig.add_trace(_diagonal("perfect calibration"))
    fig.add_trace(
        go.Scatter(
            x=[p[0] for p in pts],
            y=[p[1] for p in pts],
            mode="lines+markers",
            marker={"size": [6 + min(n, 50) / 5 for *_, n in pts]},
            text=[f"n = {n}" for *_, n in pts],
            name="model",
            line={"color": "#1d4e89"},
        )
    )
    fig.update_xaxes(title_text="mean confidence", range=[0, 1])
    fig.update_yaxes(title_text="accuracy", range=[0, 1.02])
    return _layout(fig, title)


def report_figures(evaluation: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The plots an evaluation holds data for: confusion, ROC, reliability."""
    report = evaluation.get("report") or {}
    names = report.get("class_names") or list(report.get("per_class") or {})
    figures = {}
    if report.get("confusion_matrix"):
        figures["confusion"] = confusion_figure(
            report["confusion_matrix"], names, f"{prefix}: confusion matrix"
        )
    if evaluation.get("roc"):
        aucs = {c: (pc or {}).get("auc") for c, pc in report["per_class"].items()}
        figures["roc"] = roc_figure(evaluation["roc"], aucs, f"{prefix}: ROC")
    if evaluation.get("reliability"):
        figures["reliability"] = reliability_figure(
            evaluation["reliability"], f"{prefix}: reliability"
        )
    return figures
