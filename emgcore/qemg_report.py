"""The QEMG values a result shows, each beside the range seen in healthy people.

:func:`qemg_report` runs :func:`emgcore.qemg.analyse_recording` on the analysed
channel and pairs the per-recording medians with the reference ranges of
``qemg_reference.json`` (5th-95th percentile over the healthy people of the two
clinical collections, written by ``scripts/qemg_reference.py``). The ranges pool
deltoid and biceps and every age, since the data are too few for per-muscle,
per-age tables; a value outside them is a prompt to look, not a finding.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

from emgcore.errors import InvalidRecordingError
from emgcore.qemg import analyse_recording

REFERENCE_PATH = Path(__file__).with_name("qemg_reference.json")

#: (summary key, label, unit, decimals) in the order a clinician reads them.
ROWS: tuple[tuple[str, str, str, int], ...] = (
    ("muap_count", "MUAPs found", "", 0),
    ("amplitude_uv_median", "MUAP amplitude (median)", "µV", 0),
    ("duration_ms_median", "MUAP duration (median)", "ms", 1),
    ("phases_median", "Phases (median)", "", 1),
    ("turns_median", "Turns (median)", "", 1),
    ("area_uv_ms_median", "Area (median)", "µV·ms", 0),
    ("thickness_ms_median", "Thickness, area/amplitude (median)", "ms", 2),
    ("size_index_median", "Size index (median)", "", 2),
    ("frac_polyphasic", "Polyphasic MUAPs (> 4 phases)", "%", 0),
    ("ip_turns_per_s", "Interference pattern: turns", "/s", 0),
    ("ip_amp_per_turn_uv", "Interference pattern: amplitude per turn", "µV", 0),
)


@lru_cache(maxsize=1)
def reference() -> dict[str, Any]:
    """The reference ranges and where they come from (empty if not shipped)."""
    if not REFERENCE_PATH.exists():
        return {}
    return json.loads(REFERENCE_PATH.read_text())


def _row(key: str, label: str, unit: str, decimals: int, value: float, ref: dict):
    scale = 100.0 if unit == "%" else 1.0
    rng = ref.get("ranges", {}).get(key)
    row: dict[str, Any] = {"key": key, "label": label, "unit": unit}
    if value is None or not math.isfinite(value):
        return {**row, "value": None, "low": None, "high": None, "flag": None}
    row["value"] = round(value * scale, decimals)
    if rng is None:
        return {**row, "low": None, "high": None, "flag": None}
    low, high = rng["low"] * scale, rng["high"] * scale
    flag = (
        "low" if value * scale < low else "high" if value * scale > high else "within"
    )
    return {
        **row,
        "low": round(low, decimals),
        "high": round(high, decimals),
        "flag": flag,
    }


def qemg_report(recording: Any, channel: int = 0) -> dict[str, Any]:
    """Rows of QEMG values with reference ranges, or a note why there are none.

    Returns
    -------
    dict
        ``{"rows": [...], "reference": {people, recordings, muscles, what},
        "note": None}``; on a recording QEMG cannot measure (no physical unit,
        rate outside 4-50 kHz, under 1 s) ``{"rows": [], "note": message}``.
    """
    try:
        summary = analyse_recording(recording, channel).summary
    except InvalidRecordingError as exc:
        return {"rows": [], "reference": None, "note": str(exc)}
    ref = reference()
    rows = [_row(*spec, summary.get(spec[0]), ref) for spec in ROWS]
    about = {k: ref.get(k) for k in ("people", "recordings", "muscles", "what")}
    note = None
    if not summary.get("muap_count"):
        note = (
            "No motor unit potential was found often enough (at least 5 firings) "
            "to measure; the interference-pattern values are still given."
        )
    return {"rows": rows, "reference": about if ref else None, "note": note}
