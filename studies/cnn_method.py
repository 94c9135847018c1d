"""The CNN-TCN as a study method: physical amplitude at 4 kHz, trained from scratch.

What it keeps of what a clinician looks at, and why: the needle-EMG band up to
1.8 kHz (a 4 kHz common rate, which both sites' 23.4 / 32.8 kHz allow) and the
amplitude in microvolts, divided by ONE fixed scale (:attr:`CnnAmplitude.scale_uv`)
instead of z-scoring each recording, so a large neuropathic MUAP stays large. A
50 Hz notch with harmonics removes the mains that marks the Mendeley healthy
biceps records (PROVENANCE.md).

Selection is nested as :mod:`studies.runner` requires: the number of epochs is
chosen by early stopping on the validation people's windows; the test people
are only ever passed to :meth:`_Fitted.predict_proba`.

What was cut to fit 2 CPU cores (said in the results): 0.5 s windows, at most
:attr:`CnnAmplitude.train_windows` windows per training record per epoch set,
a few epochs, no gesture pretraining for this variant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from studies.runner import Part


def clinical_windows_4k(window_s: float = 0.5, rate_hz: float = 4000.0) -> Any:
    """Windows of every clinical record at ``rate_hz`` (4 kHz unless asked), uV,
    notch, no z-score (cached); band-pass 20 Hz to 0.45 x the rate."""
    from emgcore.config import PreprocessConfig
    from emgcore.datasets.clinical_windows import load_clinical

    config = PreprocessConfig(
        target_sfreq=rate_hz,
        bandpass_hz=(20.0, 0.45 * rate_hz),
        notch_hz=50.0,
        notch_harmonics=True,
        zscore=None,
        window_s=window_s,
        step_s=window_s / 2,
    )
    return load_clinical(preprocess=config)


def _scaled(x: NDArray, scale_uv: float | None) -> NDArray[np.float32]:
    """uV / one fixed scale, or (``None``) each window z-scored: the paper's way."""
    if scale_uv is None:
        sd = x.std(axis=-1, keepdims=True)
        return ((x - x.mean(axis=-1, keepdims=True)) / np.maximum(sd, 1e-6)).astype(
            np.float32
        )
    return (x / scale_uv).astype(np.float32)


def _pick(ids: NDArray, wanted: list[str], cap: int | None, rng) -> NDArray[np.int64]:
    """Window indices of the ``wanted`` records, at most ``cap`` per record."""
    out = []
    for rec in wanted:
        idx = np.flatnonzero(ids == rec)
        if cap is not None and idx.size > cap:
            idx = np.sort(rng.choice(idx, cap, replace=False))
        out.append(idx)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


@dataclass
class _Fitted:
    model: Any
    windows: Any
    scale_uv: float | None
    predict_windows: int
    info: dict[str, Any] = field(default_factory=dict)

    def predict_proba(self, part: Part) -> NDArray[np.float64]:
        import torch

        rng = np.random.default_rng(0)
        ids = self.windows.recording_ids
        self.model.eval()
        out = []
        with torch.no_grad():
            for rec in part.records:
                idx = _pick(ids, [rec.record], self.predict_windows, rng)
                x = torch.from_numpy(_scaled(self.windows.X[idx], self.scale_uv))
                p = torch.softmax(self.model(x), dim=1).mean(dim=0)
                out.append(p.numpy().astype(np.float64))
        return np.stack(out)


@dataclass
class CnnAmplitude:
    """CNN-TCN (paper architecture) on 4 kHz windows in uV / ``scale_uv``."""

    windows: Any
    name: str = "cnn-amp-4k"
    #: One fixed scale for every recording; None z-scores each window instead.
    scale_uv: float | None = 200.0
    train_windows: int = 6
    predict_windows: int = 12
    epochs: int = 6
    patience: int = 2
    seed: int = 0

    def select_and_fit(self, train: Part, val: Part) -> _Fitted:
        from emgcore.config import TrainConfig
        from emgcore.models.cnn_tcn import CnnTcn
        from emgcore.train import fit, set_seeds

        ws = self.windows
        rng = np.random.default_rng(self.seed)
        ti = _pick(
            ws.recording_ids, [r.record for r in train.records], self.train_windows, rng
        )
        vi = _pick(
            ws.recording_ids, [r.record for r in val.records], self.train_windows, rng
        )
        X = _scaled(ws.X[ti], self.scale_uv)
        Xv = _scaled(ws.X[vi], self.scale_uv)
        set_seeds(self.seed)
        model = CnnTcn(
            n_chans=X.shape[1], n_times=X.shape[2], n_outputs=3, sfreq=ws.sfreq
        )
        config = TrainConfig(
            epochs=self.epochs,
            patience=self.patience,
            batch_size=64,
            class_weights="balanced",
        )
        result = fit(
            model,
            (X, ws.y[ti]),
            (Xv, ws.y[vi]),
            config=config,
            seed=self.seed,
            progress=False,
        )
        fitted = _Fitted(model, ws, self.scale_uv, self.predict_windows)
        fitted.info = {
            "epochs_run": len(result.history),
            "best_epoch": int(result.best_epoch),
            "train_s": round(result.elapsed_s, 1),
            "train_windows": int(len(ti)),
            "val_windows": int(len(vi)),
            "scale_uv": self.scale_uv,
            "rate_hz": float(ws.sfreq),
            "window_s": float(ws.X.shape[2] / ws.sfreq),
        }
        fitted.info["val_proba"] = fitted.predict_proba(val).tolist()
        return fitted
