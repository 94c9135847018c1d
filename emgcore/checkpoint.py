"""Save and load model checkpoints: one ``.pt`` file, its sha256 beside it.

A checkpoint is ``{"format_version": 1, "state_dict": ..., "metadata": ...}``
written with :func:`torch.save` and read with
``torch.load(path, map_location="cpu", weights_only=True)``, so it holds only
tensors and JSON-like values. The metadata (STYLE.md §4, like torchvision's
``Weights.meta``) says how to use the weights: class order, input rate and
shape, preprocessing, training recipe, data, metrics and provenance.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypedDict

import torch

import emgcore

# file_sha256 stays importable from here: callers use emgcore.checkpoint's.
from emgcore.digest import file_sha256
from emgcore.errors import IncompatibleCheckpointError
from emgcore.models import MODELS, EmgModel, model_name_of

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
_SHA_SUFFIX = ".sha256"


class DatasetInfo(TypedDict):
    """Which data trained the model: dataset name and a hash of the split ids."""

    name: str | None
    split_hash: str | None


class CheckpointMetadata(TypedDict):
    """The metadata stored in every checkpoint (STYLE.md §4)."""

    model_name: str
    model_kwargs: dict[str, Any]
    class_names: list[str]
    preprocess: dict[str, Any]
    train: dict[str, Any]
    sfreq: float
    n_chans: int
    n_times: int
    dataset: DatasetInfo
    metrics: dict[str, Any]
    seed: int | None
    parent: str | None
    min_confidence: float | None
    emgcore_version: str
    torch_version: str
    git_commit: str | None
    created_at: str
    # Provenance (optional, {} when not given): ``evaluation`` says how the
    # ``metrics`` were measured -- protocol ("subject_held_out",
    # "time_block_same_people" or "window_random_split"), dataset,
    # people_per_class, subjects, recordings, sha256s, subject_held_out (bool);
    # ``training_data`` what the weights were fitted on -- datasets, subjects,
    # recordings, sha256s. The clinic's registry reads both (clinic/provenance.py).
    evaluation: dict[str, Any]
    training_data: dict[str, Any]


#: Fields the caller may give; the rest are filled from the model and environment.
_CALLER_DEFAULTS: dict[str, Any] = {
    "preprocess": {},
    "train": {},
    "dataset": {"name": None, "split_hash": None},
    "metrics": {},
    "seed": None,
    "parent": None,
    "min_confidence": None,
    "evaluation": {},
    "training_data": {},
}
_AUTO_FIELDS = (
    "model_name",
    "model_kwargs",
    "sfreq",
    "n_chans",
    "n_times",
    "emgcore_version",
    "torch_version",
    "git_commit",
    "created_at",
)
METADATA_FIELDS: tuple[str, ...] = tuple(CheckpointMetadata.__annotations__)
#: Fields an older checkpoint may lack; read as empty.
_OPTIONAL_FIELDS = ("evaluation", "training_data")
#: Fields only some checkpoints have, written only when given, so every other
#: checkpoint's metadata stays as it was: ``site_calibration`` (the laboratory
#: a site-standardised model was calibrated to, emgcore.site_calibration).
EXTRA_FIELDS = ("site_calibration",)


def git_commit() -> str | None:
    """Commit of the emgcore source tree (``git rev-parse HEAD``), or None."""
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(emgcore.__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = proc.stdout.strip()
    return commit if proc.returncode == 0 and len(commit) == 40 else None


def _json_like(value: Any, what: str) -> Any:
    """Round-trip through JSON: tuples become lists, objects are refused."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"Checkpoint {what} must be JSON-serialisable: {exc}"
        ) from None


def build_metadata(model: EmgModel, metadata: Mapping[str, Any]) -> CheckpointMetadata:
    """Complete the caller's metadata with what the model and environment say.

    Parameters
    ----------
    model : EmgModel
        A registered model.
    metadata : mapping
        Must hold ``class_names`` (one per output of the primary head, in output
        order). May hold ``preprocess``, ``train``, ``dataset``, ``metrics``,
        ``seed``, ``parent``, ``min_confidence`` (defaults: empty / None). Fields
        the model determines (``model_name``, ``model_kwargs``, ``sfreq``,
        ``n_chans``, ``n_times``) must agree with the model if given.

    Returns
    -------
    metadata : CheckpointMetadata
        JSON-like dict with every field of the schema.
    """
    unknown = sorted(set(metadata) - set(METADATA_FIELDS) - set(EXTRA_FIELDS))
    if unknown:
        raise ValueError(
            f"Unknown checkpoint metadata field(s): {', '.join(unknown)}. "
            f"Known fields: {', '.join(METADATA_FIELDS)}."
        )
    if "class_names" not in metadata:
        raise ValueError("Checkpoint metadata needs 'class_names' (in output order).")
    class_names = [str(c) for c in metadata["class_names"]]
    if len(class_names) != model.n_outputs:
        raise ValueError(
            f"{len(class_names)} class names given for a model with "
            f"{model.n_outputs} outputs."
        )
    auto: dict[str, Any] = {
        "model_name": model_name_of(model),
        "model_kwargs": _json_like(model.get_config(), "model_kwargs"),
        "sfreq": float(model.sfreq),
        "n_chans": int(model.n_chans),
        "n_times": int(model.n_times),
    }
    for key, value in auto.items():
        if key in metadata and _json_like(metadata[key], key) != value:
            raise ValueError(
                f"Checkpoint metadata '{key}' is {metadata[key]!r} but the model "
                f"says {value!r}."
            )
    out: dict[str, Any] = dict(_CALLER_DEFAULTS)
    out.update({k: v for k, v in metadata.items() if k not in _AUTO_FIELDS})
    out["class_names"] = class_names
    out.update(auto)
    out.update(
        emgcore_version=emgcore.__version__,
        torch_version=torch.__version__,
        git_commit=metadata.get("git_commit", git_commit()),
        created_at=metadata.get(
            "created_at",
            _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        ),
    )
    dataset = out["dataset"]
    if not isinstance(dataset, Mapping) or set(dataset) - {"name", "split_hash"}:
        raise ValueError(
            f"Checkpoint metadata 'dataset' must be {{'name', 'split_hash'}}, "
            f"got {dataset!r}."
        )
    out["dataset"] = {
        "name": dataset.get("name"),
        "split_hash": dataset.get("split_hash"),
    }
    ordered = {key: out[key] for key in METADATA_FIELDS}
    ordered.update({key: out[key] for key in EXTRA_FIELDS if key in out})
    return _json_like(ordered, "metadata")  # type: ignore[no-any-return]


def save_checkpoint(
    path: str | os.PathLike[str], model: EmgModel, metadata: Mapping[str, Any]
) -> str:
    """Write a checkpoint and its ``<path>.sha256`` sidecar.

    The file is written to a temporary name and renamed, so a reader never
    sees half a checkpoint.

    Parameters
    ----------
    path : path-like
        Output ``.pt`` file; its folder must exist.
    model : EmgModel
        A registered model; its weights are copied to CPU.
    metadata : mapping
        See :func:`build_metadata`.

    Returns
    -------
    sha256 : str
        Hex digest of the written file (also in the sidecar).
    """
    path = Path(path)
    meta = build_metadata(model, metadata)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    payload = {"format_version": FORMAT_VERSION, "state_dict": state, "metadata": meta}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; checkpoints are shared files
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    sha = file_sha256(path)
    Path(str(path) + _SHA_SUFFIX).write_text(f"{sha}  {path.name}\n", encoding="ascii")
    logger.info("saved %s checkpoint %s (sha256 %s)", meta["model_name"], path, sha)
    return sha


def _sidecar_sha(path: Path) -> str | None:
    sidecar = Path(str(path) + _SHA_SUFFIX)
    if not sidecar.is_file():
        return None
    text = sidecar.read_text(encoding="ascii", errors="replace").split()
    return text[0].lower() if text else ""


def load_checkpoint(
    path: str | os.PathLike[str], *, expected_sha256: str | None = None
) -> tuple[EmgModel, CheckpointMetadata]:
    """Load a checkpoint written by :func:`save_checkpoint`.

    Parameters
    ----------
    path : path-like
        The ``.pt`` file.
    expected_sha256 : str or None
        If given, the file's sha256 must equal it. A ``<path>.sha256`` sidecar,
        if present, is checked too.

    Returns
    -------
    model : EmgModel
        The rebuilt model with its weights, on CPU, in eval mode.
    metadata : CheckpointMetadata

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    IncompatibleCheckpointError
        If the file's hash differs, it is not a readable checkpoint, its
        ``format_version`` is not supported, its model is not in the registry, or
        its weights do not fit the model its metadata describes.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Checkpoint {path} does not exist.")
    actual = file_sha256(path)
    if expected_sha256 is not None and actual != expected_sha256.strip().lower():
        raise IncompatibleCheckpointError(
            f"Checkpoint {path.name} has sha256 {actual}, expected "
            f"{expected_sha256.strip().lower()}: the file was changed or is not "
            "the registered one."
        )
    sidecar = _sidecar_sha(path)
    if sidecar is not None and sidecar != actual:
        raise IncompatibleCheckpointError(
            f"Checkpoint {path.name} has sha256 {actual} but its {path.name}"
            f"{_SHA_SUFFIX} file says {sidecar}: the file was changed or damaged."
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle/zip errors of many kinds
        raise IncompatibleCheckpointError(
            f"{path.name} is not a readable emgcore checkpoint "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})."
        ) from exc
    if not isinstance(payload, dict) or "format_version" not in payload:
        raise IncompatibleCheckpointError(
            f"{path.name} is not an emgcore checkpoint (no 'format_version')."
        )
    version = payload["format_version"]
    if version != FORMAT_VERSION:
        raise IncompatibleCheckpointError(
            f"{path.name} has checkpoint format_version {version!r}; this emgcore "
            f"({emgcore.__version__}) reads format_version {FORMAT_VERSION}."
        )
    metadata = payload.get("metadata")
    state = payload.get("state_dict")
    if not isinstance(metadata, dict) or not isinstance(state, dict):
        raise IncompatibleCheckpointError(
            f"{path.name} lacks its 'metadata' or 'state_dict'."
        )
    # Checkpoints written before provenance was recorded have neither field.
    for key in _OPTIONAL_FIELDS:
        metadata.setdefault(key, {})
    missing = [k for k in METADATA_FIELDS if k not in metadata]
    if missing:
        raise IncompatibleCheckpointError(
            f"{path.name} metadata lacks field(s): {', '.join(missing)}."
        )
    name = metadata["model_name"]
    if name not in MODELS:
        raise IncompatibleCheckpointError(
            f"{path.name} holds a model named {name!r}, which this emgcore does not "
            f"know (registered: {', '.join(MODELS)})."
        )
    try:
        model = MODELS[name](**metadata["model_kwargs"])
    except (TypeError, ValueError) as exc:
        raise IncompatibleCheckpointError(
            f"{path.name}: cannot build {name!r} from its model_kwargs: {exc}"
        ) from exc
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # tensor shapes differ
        raise IncompatibleCheckpointError(
            f"{path.name}: weights do not fit {name!r}: "
            f"{' '.join(str(exc).split())[:300]}"
        ) from exc
    if result.missing_keys or result.unexpected_keys:
        raise IncompatibleCheckpointError(
            f"{path.name}: weights do not fit {name!r}; missing "
            f"{list(result.missing_keys)[:5]}, unexpected "
            f"{list(result.unexpected_keys)[:5]}."
        )
    model.eval()
    return model, metadata  # type: ignore[return-value]
