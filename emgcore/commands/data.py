"""``python -m emgcore data {list,download}``: find and fetch datasets."""

from __future__ import annotations

import argparse
import json
import os


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data", help="list the known datasets or download one (sha256-checked)"
    )
    sub = parser.add_subparsers(dest="data_command", required=True, metavar="ACTION")

    p_list = sub.add_parser(
        "list", help="print JSON: the data directory and which datasets are present"
    )
    p_list.add_argument(
        "--data-dir", default=None, help="data directory (default: $EMG_DATA_DIR)"
    )
    p_list.set_defaults(func=_list)

    p_dl = sub.add_parser(
        "download", help="download a public dataset and check every file's sha256"
    )
    from emgcore.download import DOWNLOADS

    p_dl.add_argument("name", choices=sorted(DOWNLOADS), help="dataset to fetch")
    p_dl.add_argument(
        "--dest",
        default=None,
        help="destination folder (default: $EMG_DATA_DIR/<dataset folder>)",
    )
    p_dl.add_argument(
        "--base-url", default=None, help="mirror to fetch from (default: PhysioNet)"
    )
    p_dl.add_argument(
        "--timeout", type=float, default=30.0, help="seconds per request (default 30)"
    )
    p_dl.set_defaults(func=_download)


def _list(args: argparse.Namespace) -> int:
    from emgcore.datasets import DATA_DIR_ENV, DATASET_FOLDERS, _default_data_dir
    from emgcore.download import DOWNLOADS

    if args.data_dir is not None:
        root, source = args.data_dir, "--data-dir"
    elif os.environ.get(DATA_DIR_ENV):
        root, source = os.environ[DATA_DIR_ENV], f"${DATA_DIR_ENV}"
    else:
        root, source = str(_default_data_dir()), "default"
    root_path = os.path.abspath(os.path.expanduser(root))
    downloadable = {spec.folder: key for key, spec in DOWNLOADS.items()}
    datasets = []
    for name, folder in DATASET_FOLDERS.items():
        path = os.path.join(root_path, folder)
        datasets.append(
            {
                "name": name,
                "folder": folder,
                "path": path,
                "present": os.path.isdir(path),
                "download": (
                    f"python -m emgcore data download {downloadable[folder]}"
                    if folder in downloadable
                    else None
                ),
            }
        )
    report = {
        "data_dir": root_path,
        "data_dir_from": source,
        "data_dir_exists": os.path.isdir(root_path),
        "datasets": datasets,
    }
    print(json.dumps(report, indent=2))
    return 0


def _download(args: argparse.Namespace) -> int:
    from emgcore.download import download_dataset

    results = download_dataset(
        args.name, dest=args.dest, base_url=args.base_url, timeout_s=args.timeout
    )
    for result in results:
        print(f"{result.status:10s} {result.path}")
    return 0
