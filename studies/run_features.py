"""``python -m studies.run_features --runs DIR [--protocols ...] [--seeds ...]``.

Runs the feature methods of :mod:`studies.feature_methods` on the same person
splits as the CNN-TCN (studies.protocols) and writes resumable units:

- ``classic``: the classic peer (see the module), classifier chosen on val;
- ``classic-lda`` / ``classic-logreg`` / ``classic-rf``: one family each;
- ``qemg``: the quantitative-EMG summary;
- ``classic+qemg``: both tables side by side;
- ``classic-hgb``, ``classic+qemg-logreg``, ``classic+qemg+muscle-logreg``:
  further single variants (``muscle``: 1 for deltoid);
- ``features-auto``: feature set AND classifier chosen on validation people from
  all of the above: the nested choice, the one to compare with other methods.

A few minutes on 2 cores once the feature tables are cached.
"""

from __future__ import annotations

import argparse
import logging
import time

from emgcore.datasets.clinical import clinical_records
from studies.feature_methods import (
    SklearnMethod,
    TableSource,
    classic_table,
    muscle_table,
    qemg_table,
)
from studies.protocols import PROTOCOL_SEEDS, splits_for
from studies.runner import run_unit

#: method name -> (tables, candidate families or None for all).
METHODS = {
    "classic": (("classic",), None),
    "classic-lda": (("classic",), ("lda",)),
    "classic-logreg": (("classic",), ("logreg",)),
    "classic-rf": (("classic",), ("rf",)),
    "qemg": (("qemg",), None),
    "classic+qemg": (("classic", "qemg"), None),
    "classic-hgb": (("classic",), ("hgb",)),
    "classic+qemg-logreg": (("classic", "qemg"), ("logreg",)),
    "classic+qemg+muscle-logreg": (("classic", "qemg", "muscle"), ("logreg",)),
    # The nested choice over every feature set and classifier family above.
    "features-auto": (("classic", "qemg", "muscle"), ("lda", "logreg", "rf", "hgb")),
}
#: Feature sets "features-auto" chooses among (on validation people).
AUTO_SETS = {
    "classic": ("classic",),
    "qemg": ("qemg",),
    "classic+qemg": ("classic", "qemg"),
    "classic+qemg+muscle": ("classic", "qemg", "muscle"),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", required=True)
    ap.add_argument("--protocols", nargs="+", default=list(PROTOCOL_SEEDS))
    ap.add_argument("--seeds", type=int, nargs="+", default=None)
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument(
        "--site-norm",
        action="store_true",
        help="standardise features within each site; units named <method>-sitenorm",
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    records = clinical_records()
    t0 = time.perf_counter()
    # Only the tables the asked methods read (the QEMG one takes longest).
    builders = {
        "classic": classic_table,
        "qemg": lambda: qemg_table(records),
        "muscle": lambda: muscle_table(records),
    }
    needed = {t for name in args.methods for t in METHODS[name][0]}
    tables = {t: builders[t]() for t in sorted(needed)}
    print(f"feature tables in {time.perf_counter() - t0:.0f} s", flush=True)
    for name in args.methods:
        wanted, only = METHODS[name]
        source = TableSource([tables[t] for t in wanted], wanted)
        for protocol in args.protocols:
            for seed in args.seeds or PROTOCOL_SEEDS[protocol]:
                sets = AUTO_SETS if name == "features-auto" else None
                families = only or ("lda", "logreg", "rf")
                method = SklearnMethod(
                    name + ("-sitenorm" if args.site_norm else ""),
                    seed=seed,
                    only=families,
                    feature_sets=sets,
                    site_norm=args.site_norm,
                )
                for split in splits_for(protocol, records, seed):
                    unit = run_unit(method, split, records, args.runs, source=source)
                    print(f"{name} {protocol} {split.unit}: {unit['info']['chosen']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
