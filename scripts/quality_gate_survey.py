"""Run the signal-quality gate over the real needle recordings and count rejections.

For docs/QUALITY.md: how many real records each rule of emgcore.gate rejects,
which records, how much of the others it leaves out, and the quietest and
loudest values the thresholds are set against. Uses the shipped model's
requirements (models/disease/default.pt metadata):

    EMG_DATA_DIR=../shared/data nice -n 10 .venv/bin/python \
        scripts/quality_gate_survey.py

Records the readers refuse (corrupt files) are counted apart: they never reach
the gate.
"""

from __future__ import annotations

import collections
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DATASETS = ("physionet-emgdb", "emglab-n2001-wfdb", "needle-emg-mendeley")


def main() -> int:
    from emgcore.checkpoint import load_checkpoint
    from emgcore.errors import EmgCoreError
    from emgcore.gate import ModelInput, check_recording
    from emgcore.io import read_recording

    data = Path(os.environ.get("EMG_DATA_DIR", REPO.parent / "shared" / "data"))
    _, metadata = load_checkpoint(REPO / "models" / "disease" / "default.pt")
    spec = ModelInput.from_metadata(metadata)
    print(f"model input: {spec}")
    for name in DATASETS:
        headers = sorted((data / name).glob("*.hea"))
        rejected: dict[str, list[str]] = collections.defaultdict(list)
        unreadable, partial, warned = [], [], 0
        lowest: dict[str, tuple[float, str]] = {}
        highest: dict[str, tuple[float, str]] = {}
        for hea in headers:
            try:
                rec = read_recording(hea, min_duration_s=0)
            except EmgCoreError as exc:
                unreadable.append(f"{hea.stem} ({exc})")
                continue
            v = check_recording(rec, spec)
            warned += bool(v.warnings)
            for r in v.reasons:
                rejected[r.code].append(hea.stem)
            if v.analysable and v.excluded_s > 0:
                partial.append(f"{hea.stem} {100 * v.excluded_fraction:.1f} %")
            if not v.analysable:
                continue
            for key in ("block_rms_uv_min", "residual_rms_uv"):
                val = v.measured.get(key)
                if val is not None and (key not in lowest or val < lowest[key][0]):
                    lowest[key] = (val, hea.stem)
            for key in ("block_rms_uv_max", "mains_share"):
                val = v.measured.get(key)
                if val is not None and (key not in highest or val > highest[key][0]):
                    highest[key] = (val, hea.stem)
        n_read = len(headers) - len(unreadable)
        n_rejected = len({s for names in rejected.values() for s in names})
        print(f"\n== {name}: {len(headers)} records, {n_read} read by the readers")
        print(f"  not analysable: {n_rejected}")
        for code, names in sorted(rejected.items()):
            print(f"    rule {code}: {len(names)} ({', '.join(names)})")
        print(f"  analysable with parts left out: {len(partial)} {partial}")
        print(f"  analysable with a warning: {warned}")
        for key, (val, stem) in sorted(lowest.items()):
            print(f"  lowest {key} among analysable: {val:g} ({stem})")
        for key, (val, stem) in sorted(highest.items()):
            print(f"  highest {key} among analysable: {val:g} ({stem})")
        for u in unreadable:
            print(f"  unreadable: {u}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
