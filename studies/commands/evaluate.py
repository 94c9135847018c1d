"""``python -m studies evaluate``: the paper's protocols, their summary, embeddings.

    python -m studies evaluate protocol --protocol n2001_loso --seeds 0 1 2 3 4 \\
        --methods tl scratch lda --pretrained tl=models/pretrained/cnn_tcn-mix.pt
    python -m studies evaluate summary --runs runs/disease --out docs/results
    python -m studies evaluate embedding --model CKPT --out docs/results/figures/x

One checkpoint's metrics is a runtime command: ``python -m emgcore evaluate
checkpoint``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="the paper's disease protocols, summary, embeddings"
    )
    what = p.add_subparsers(dest="what", required=True, metavar="WHAT")

    proto = what.add_parser("protocol", help="run one protocol's training/testing runs")
    proto.add_argument(
        "--protocol", required=True, choices=("paper", "blocked", "n2001_loso")
    )
    proto.add_argument("--runs", default="runs/disease", help="folder of run files")
    proto.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    proto.add_argument(
        "--methods", nargs="+", default=["tl", "scratch", "lda", "logreg", "rf"]
    )
    proto.add_argument(
        "--pretrained",
        nargs="*",
        default=[],
        metavar="METHOD=CKPT",
        help="checkpoint of each transfer method, e.g. tl-mix=models/pretrained/cnn_tcn-mix.pt",
    )
    proto.add_argument(
        "--budget",
        default="paper",
        choices=("paper", "cpu", "tiny"),
        help="paper: the paper's epochs (default); cpu: a shorter schedule",
    )
    proto.add_argument("--rate-hz", type=float, default=1000.0)
    proto.add_argument("--data-dir", default=None)
    proto.set_defaults(func=run_protocol_cmd)

    summ = what.add_parser("summary", help="summarise run files into JSON + figures")
    summ.add_argument("--runs", default="runs/disease")
    summ.add_argument("--out", default="docs/results")
    summ.add_argument("--data-dir", default=None)
    summ.add_argument(
        "--rate-hz",
        type=float,
        default=1000.0,
        help="input rate the runs used (as given to 'protocol')",
    )
    summ.set_defaults(func=run_summary)

    best = what.add_parser(
        "best-source",
        help="print the tl-<source> method that does best on N2001 (seed 0)",
    )
    best.add_argument("--runs", default="runs/disease")
    best.add_argument("--data-dir", default=None)
    best.set_defaults(func=run_best_source)

    emb = what.add_parser(
        "embedding",
        help="PCA, class-centroid distances and t-SNE of the 128-d embedding",
    )
    emb.add_argument("--model", required=True)
    emb.add_argument(
        "--dataset",
        default="physionet_emgdb",
        choices=("physionet_emgdb", "emglab_n2001"),
    )
    emb.add_argument("--out", required=True, help="output prefix (.json and .png)")
    emb.add_argument("--data-dir", default=None)
    emb.set_defaults(func=run_embedding)


def _pretrained_map(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        method, sep, path = item.partition("=")
        if not sep:
            raise SystemExit(f"--pretrained expects METHOD=CKPT, got {item!r}")
        out[method] = path
    return out


def _budget(name: str):
    from emgcore.disease import Budget

    return {"paper": Budget, "cpu": Budget.cpu, "tiny": Budget.tiny}[name]()


def run_protocol_cmd(args: argparse.Namespace) -> int:
    from studies.disease_paper import ProtocolRun, run_protocol

    run = ProtocolRun(
        seeds=args.seeds,
        methods=args.methods,
        budget=_budget(args.budget),
        pretrained=_pretrained_map(args.pretrained),
        data_dir=args.data_dir,
        rate_hz=args.rate_hz,
    )
    paths = run_protocol(
        args.protocol,
        args.runs,
        run,
        on_run=lambda msg: print(f"done: {msg}", flush=True),
    )
    print(json.dumps({"protocol": args.protocol, "runs": len(paths)}))
    return 0


def run_summary(args: argparse.Namespace) -> int:
    from studies.disease_paper import load_protocol_data
    from studies.disease_report import (
        choose_default,
        render_markdown,
        summarise,
        write_figures,
    )

    runs = Path(args.runs)
    protocols = sorted({p.parent.parent.name for p in runs.glob("*/*/seed*.json")})
    data = {}
    for protocol in protocols:
        if protocol in ("paper", "blocked") and "emgdb" in data:
            data[protocol] = data["emgdb"]
            continue
        data[protocol] = load_protocol_data(
            protocol, data_dir=args.data_dir, rate_hz=args.rate_hz
        )
        if protocol in ("paper", "blocked"):
            data["emgdb"] = data[protocol]
    summary = summarise(runs, data_by_protocol=data)
    try:
        summary["default_method"], summary["default_score"] = choose_default(summary)
    except ValueError:  # no deep-model leave-one-subject-out runs (e.g. a study)
        pass
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary["figures"] = write_figures(summary, runs, data, out / "figures")
    (out / "disease.json").write_text(json.dumps(summary, indent=1))
    (out / "disease_tables.md").write_text(render_markdown(summary))
    print(
        json.dumps(
            {
                "summary": str(out / "disease.json"),
                "default_method": summary.get("default_method"),
            }
        )
    )
    return 0


def run_best_source(args: argparse.Namespace) -> int:
    from studies.disease_paper import load_protocol_data
    from studies.disease_report import best_transfer_method

    ws = load_protocol_data("n2001_loso", data_dir=args.data_dir)
    print(best_transfer_method(args.runs, ws))
    return 0


def run_embedding(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from emgcore.checkpoint import load_checkpoint
    from emgcore.config import PreprocessConfig
    from emgcore.datasets import load_dataset
    from studies.embedding import embedding_analysis
    from studies.plots import plot_embedding

    model, meta = load_checkpoint(args.model)
    ws = load_dataset(
        args.dataset,
        args.data_dir,
        preprocess=PreprocessConfig.from_dict(meta["preprocess"]),
    )
    with torch.inference_mode():
        emb = np.concatenate(
            [
                model.embed(
                    torch.from_numpy(np.ascontiguousarray(ws.X[s : s + 128]))
                ).numpy()
                for s in range(0, len(ws), 128)
            ]
        )
    result = embedding_analysis(emb, ws.y, list(ws.class_names), seed=0)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    plot_embedding(
        result["tsne_xy"],
        result["tsne_y"],
        list(ws.class_names),
        out.with_suffix(".png"),
        title=f"t-SNE of the 128-d embedding, {args.dataset}",
    )
    for key in ("tsne_xy", "tsne_y", "tsne_index"):
        result.pop(key, None)
    result.update(model=Path(args.model).name, dataset=args.dataset, n_windows=len(ws))
    out.with_suffix(".json").write_text(json.dumps(result, indent=1))
    print(
        json.dumps({k: result[k] for k in ("pca_cumulative_2", "centroid_distances")})
    )
    return 0
