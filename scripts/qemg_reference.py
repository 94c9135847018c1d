"""Reference ranges of the QEMG values from the healthy people of the clinical data.

``python scripts/qemg_reference.py [--out emgcore/qemg_reference.json]``

For every healthy recording of emglab-n2001-wfdb and needle-emg-mendeley the
per-recording QEMG summary (emgcore.qemg.analyse) is computed; each person's
recordings are averaged first (a person with four records counts once), then the
5th-95th percentiles over people are the range. Ranges are pooled over muscles and
ages, as the data are too few for per-muscle, per-age tables: the result page
says so. Takes under a minute on one core.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emgcore.datasets.clinical import clinical_records  # noqa: E402
from emgcore.qemg import analyse  # noqa: E402

#: The values the result page shows a range for (the rest vary too much by muscle).
SHOWN = (
    "amplitude_uv_median",
    "duration_ms_median",
    "phases_median",
    "turns_median",
    "area_uv_ms_median",
    "thickness_ms_median",
    "size_index_median",
    "frac_polyphasic",
    "ip_turns_per_s",
    "ip_amp_per_turn_uv",
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "emgcore" / "qemg_reference.json"))
    args = ap.parse_args()
    per_person: dict[str, list[dict]] = defaultdict(list)
    sites: dict[str, str] = {}
    muscles: set[str] = set()
    for rec in clinical_records():
        if rec.label != "healthy":
            continue
        x, fs = rec.load()
        per_person[rec.subject].append(analyse(x, fs).summary)
        sites[rec.subject] = rec.site
        muscles.add(rec.muscle)
        print(rec.record, flush=True)
    ranges = {}
    for key in SHOWN:
        vals = np.array(
            [
                np.nanmean([s[key] for s in summaries])
                for summaries in per_person.values()
            ]
        )
        vals = vals[np.isfinite(vals)]
        lo, hi = np.percentile(vals, [5, 95])
        ranges[key] = {"low": round(float(lo), 3), "high": round(float(hi), 3)}
    out = {
        "what": "5th-95th percentile over healthy people (each person's recordings "
        "averaged) of emglab-n2001-wfdb and needle-emg-mendeley, muscles and ages "
        "pooled; made by scripts/qemg_reference.py",
        "people": len(per_person),
        "people_per_site": {
            s: sum(1 for v in sites.values() if v == s)
            for s in sorted(set(sites.values()))
        },
        "recordings": sum(len(v) for v in per_person.values()),
        "muscles": sorted(muscles),
        "ranges": ranges,
    }
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
