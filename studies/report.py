"""``python -m studies.report --runs DIR`` : the clinical study's tables.

Reads every saved unit under ``DIR`` (studies.runner) and writes
``runs/clinical/summary.json`` (all figures, beside the units: read by
scripts, not by people) and ``docs/results/clinical_tables.md`` (methods x
metrics with people-bootstrap 95 % CIs, per protocol; the headline also
within each site; paired tests of every method against the classic peer over
folds x seeds). Nothing is trained.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from studies.metrics import paired_test, summarise
from studies.runner import load_units

ROOT = Path(__file__).resolve().parents[1]
#: Methods in table order, with the words the table uses.
LABELS = {
    "cnn-amp-4k-w12": "CNN-TCN, µV / 200, 4 kHz, from scratch",
    "cnn-amp-4k": "CNN-TCN, µV / 200, 4 kHz, 6 windows per record",
    "cnn-z-4k-w12": "CNN-TCN, per-window z-score (the paper's input)",
    "classic": "classic peer (classifier chosen on validation people)",
    "classic-lda": "classic features + LDA",
    "classic-logreg": "classic features + logistic regression",
    "classic-rf": "classic features + random forest",
    "qemg": "quantitative EMG (MUAP + interference pattern)",
    "classic+qemg": "classic + quantitative EMG features",
    "classic-hgb": "classic features + gradient boosting",
    "classic+qemg-logreg": "classic + QEMG, logistic regression",
    "classic+qemg+muscle-logreg": "classic + QEMG + muscle, logistic regression",
    "features-auto": "features, set and classifier chosen on validation people",
    "window-linear": "shipped: window features + logistic regression "
    "(window, C and weighting chosen on validation people)",
    "hybrid-cnn-amp-4k-w12+features-auto": "hybrid: CNN-TCN and features-auto, "
    "weight chosen on validation people",
    "window-trees": "window features + gradient-boosted trees "
    "(window and trees chosen on validation people)",
    "window-linear-10k": "window features + logistic regression at 10 kHz",
    "window-trees-10k": "window features + trees at 10 kHz (2 s windows only)",
    "ensemble-window-linear+window-trees": "ensemble: window linear + trees, "
    "weights chosen on validation people",
    "ensemble-window-linear-10k+window-trees-10k": "ensemble: window linear + "
    "trees at 10 kHz, weights chosen on validation people",
    "window-ensemble": "window methods: 4 or 10 kHz, linear or + trees, "
    "chosen per fold on validation people",
    "ensemble-nested": "ensemble: member set and weights chosen on validation "
    "people (window-linear with trees, classic or QEMG models)",
    "window-linear-sitenorm": "window features standardised within each site "
    "+ logistic regression",
    "window-trees-sitenorm": "window features standardised within each site "
    "+ trees (2 s windows only)",
    "ensemble-window-linear-sitenorm+window-trees-sitenorm": "ensemble: the two "
    "site-standardised window methods, weights chosen on validation people",
    "classic-sitenorm": "classic peer, features standardised within each site",
    "classic-logreg-sitenorm": "classic features standardised within each site "
    "+ logistic regression",
}
PEER = "classic"
SHIPPED = "window-linear"
#: Paired tests written: (JSON key, reference method, level).
PAIRED = (
    ("paired_vs_peer", PEER, "person"),
    ("paired_vs_peer_record", PEER, "record"),
    ("paired_vs_shipped", SHIPPED, "person"),
    ("paired_vs_shipped_record", SHIPPED, "record"),
)
FIGURES = ("balanced_accuracy", "macro_f1", "ece_calibrated")
CLASSES = ("healthy", "myopathy", "neuropathy")


def _fmt(summary: dict[str, Any], key: str) -> str:
    v = summary["point"][key]
    ci = summary["ci"].get(key)
    if ci is None:
        return f"{v:.2f}"
    return f"{v:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"


def _site_units(units: list[dict], site: str) -> list[dict]:
    out = []
    for u in units:
        test = [r for r in u["test"] if r["site"] == site]
        if test:
            out.append(
                {**u, "test": test, "val": [r for r in u["val"] if r["site"] == site]}
            )
    return out


def _table(rows: list[tuple[str, dict]]) -> list[str]:
    head = "| method | seeds | people | balanced acc. | macro F1 | ECE (cal.) |"
    head += " ECE floor | sens H / M / N | spec H / M / N | AUC H / M / N |"
    lines = [head, "|" + "---|" * 10]
    for name, s in rows:
        p = s["point"]
        sens = " / ".join(f"{p[f'sens_{c}']:.2f}" for c in CLASSES)
        spec = " / ".join(f"{p[f'spec_{c}']:.2f}" for c in CLASSES)
        auc = " / ".join(f"{p[f'auc_{c}']:.2f}" for c in CLASSES)
        lines.append(
            f"| {LABELS.get(name, name)} | {len(s['seeds'])} | {s['n_people']} | "
            + " | ".join(_fmt(s, k) for k in FIGURES)
            + f" | {s['ece_floor']:.2f} | {sens} | {spec} | {auc} |"
        )
    return lines


def build(runs: Path, n_boot: int = 1000) -> tuple[dict[str, Any], str]:
    """All figures (JSON-able) and the markdown tables."""
    out: dict[str, Any] = {"runs": str(runs), "protocols": {}}
    md = [
        "# Clinical disease study: tables",
        "",
        f"Made by `python -m studies.report --runs {runs}` from the saved units. "
        "Person level unless said: a person's probabilities are the mean over "
        "their recordings. Methods 'standardised within each site' take a site's "
        "statistics from its training people; in cross_site the test site has "
        "none, so its statistics come from its own unlabelled recordings "
        "(unsupervised adaptation; studies.site_norm). "
        f"95 % intervals resample people ({n_boot} draws). ECE is after "
        "temperature scaling fitted on each fold's validation people; the ECE floor "
        "is what a perfectly calibrated model with the same probabilities would "
        "show on as many people (labels drawn from its own probabilities; "
        "studies.metrics.ece_floor), the binning noise a measured ECE is read against.",
        "",
        "Protocols: `headline` = person-grouped 5-fold CV on both sites pooled, "
        "stratified by site x class, 3 seeds where run; `cross_site` = train on one "
        "site, test on every person of the other; `n2001_loso` = N2001 leave one "
        "person out (18 people). Validation people (inside the training side) choose "
        "everything; test people never do.",
        "",
    ]
    for protocol in ("headline", "cross_site", "n2001_loso"):
        folder = runs / protocol
        methods = [m for m in LABELS if (folder / m).is_dir()]
        methods += (
            sorted(
                p.name for p in folder.glob("*") if p.is_dir() and p.name not in LABELS
            )
            if folder.is_dir()
            else []
        )
        if not methods:
            continue
        res: dict[str, Any] = {}
        groups: list[tuple[str, str, list[tuple[str, dict]]]] = []
        for level in ("person", "record"):
            rows = []
            for m in methods:
                units = load_units(runs, protocol, m)
                if protocol == "cross_site":
                    for direction in sorted({u["split"]["name"] for u in units}):
                        us = [u for u in units if u["split"]["name"] == direction]
                        s = summarise(us, level=level, n_boot=n_boot)
                        res.setdefault(f"{m} {direction}", {})[level] = s
                        words = direction.replace("_to_", " → ")
                        rows.append((f"{LABELS.get(m, m)}, {words}", s))
                    continue
                s = summarise(units, level=level, n_boot=n_boot)
                res.setdefault(m, {})[level] = s
                rows.append((m, s))
            groups.append((protocol, f"{level} level", rows))
        if protocol == "headline":
            for site in ("n2001", "mendeley"):
                rows = []
                for m in methods:
                    us = _site_units(load_units(runs, protocol, m), site)
                    s = summarise(us, level="person", n_boot=n_boot)
                    res[m][f"person_{site}"] = s
                    rows.append((m, s))
                groups.append((protocol, f"person level, {site} people only", rows))
            for key, ref, level in PAIRED:
                if ref not in methods:
                    continue
                other = load_units(runs, protocol, ref)
                res[key] = {
                    m: paired_test(load_units(runs, protocol, m), other, level=level)
                    for m in methods
                    if m != ref
                }
        out["protocols"][protocol] = res
        for proto, level, rows in groups:
            md += [f"## {proto}, {level}", "", *_table(rows), ""]
        for key, ref, level in PAIRED:
            if key not in res:
                continue
            md += [
                f"Paired Wilcoxon over folds x seeds, {level}-level balanced "
                f"accuracy, method minus `{ref}`:",
                "",
                "| method | pairs | mean difference | wins / losses | p |",
                "|---|---|---|---|---|",
            ]
            for m, t in res[key].items():
                md.append(
                    f"| {LABELS.get(m, m)} | {t['n_pairs']} | "
                    f"{t['mean_difference']:+.3f} | {t['wins_a']} / {t['wins_b']} | "
                    f"{t['p_value']:.3g} |"
                )
            md.append("")
    return out, "\n".join(md) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", default="runs/clinical")
    ap.add_argument("--out-json", default=str(ROOT / "runs/clinical/summary.json"))
    ap.add_argument("--out-md", default=str(ROOT / "docs/results/clinical_tables.md"))
    ap.add_argument("--n-boot", type=int, default=1000)
    args = ap.parse_args(argv)
    data, md = build(Path(args.runs), n_boot=args.n_boot)
    Path(args.out_json).write_text(json.dumps(data, indent=1) + "\n")
    Path(args.out_md).write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
