"""A linear classifier on the classic needle-EMG features of each window.

The clinical study (docs/RESULTS.md) found that, on people never seen in
training, hand-made amplitude and frequency features in microvolts beat the
CNN-TCN by about 12 points of balanced accuracy. This model ships that method
behind the same interface as the networks, so checkpoints, the registry,
:func:`emgcore.inference.predict` and the signal-quality gate need nothing new.

Each input window (one channel, microvolts, band-passed and notch-filtered by
the checkpoint's preprocessing, NOT z-scored: amplitude is the evidence) is cut
into sub-windows. Per sub-window: MAV, RMS, WL, ZC, SSC (10 uV thresholds, above
the needle's noise floor), MNF, MDF, turns (100 uV, Willison) and the 50th /
95th / 99th percentiles of ``|x|``; amplitude-like values are log10'd (MUAP size
spans decades). Per window: the 10th, 50th and 90th percentile of each over its
sub-windows, so one large reinnervated unit and a steady small-unit pattern
look different. Those values are standardised and fed to one linear layer.

The weights come from a scikit-learn logistic regression fitted by
``studies/shipped_model.py``; nothing here is trained by gradient descent, and
:func:`emgcore.train.fit` refuses it (it has no trainable encoder).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from emgcore.models.base import EmgModel

#: Thresholds in uV (see the module docstring).
ZC_UV, SSC_UV, TURNS_UV = 10.0, 10.0, 100.0
BASE_FEATURES = ("MAV", "RMS", "WL", "ZC", "SSC", "MNF", "MDF", "TURNS")
PERCENTILE_FEATURES = ("ABS_P50", "ABS_P95", "ABS_P99")
LOG_FEATURES = ("MAV", "RMS", "WL", "TURNS", "ABS_P50", "ABS_P95", "ABS_P99")
QUANTILES = (10, 50, 90)


def feature_names() -> tuple[str, ...]:
    """Column names of :func:`window_features`, e.g. ``"RMS_p50"``."""
    base = BASE_FEATURES + PERCENTILE_FEATURES
    return tuple(f"{n}_p{q}" for n in base for q in QUANTILES)


def sub_window_features(x: NDArray[np.floating], sfreq: float) -> NDArray[np.float64]:
    """Per sub-window values, shape (n, 11), from windows (n, 1, n_times) in uV."""
    from emgcore.features import extract_features

    f, _ = extract_features(
        x,
        sfreq,
        BASE_FEATURES,
        zc_threshold=ZC_UV,
        ssc_threshold=SSC_UV,
        turns_threshold=TURNS_UV,
    )
    pct = np.percentile(np.abs(x[:, 0, :]), [50, 95, 99], axis=1).T
    out = np.concatenate([f, pct], axis=1)
    for j, name in enumerate(BASE_FEATURES + PERCENTILE_FEATURES):
        if name in LOG_FEATURES:
            out[:, j] = np.log10(np.maximum(out[:, j], 1e-3))
    return out


def window_features(
    windows: NDArray[np.floating], sfreq: float, sub_n_times: int
) -> NDArray[np.float64]:
    """Features of each window, shape (n_windows, 33); see the module docstring.

    ``windows`` is (n_windows, 1, n_times) in uV; each is cut into
    ``n_times // sub_n_times`` non-overlapping sub-windows (at least one).
    """
    x = np.asarray(windows, dtype=np.float64)
    n, _, n_times = x.shape
    k = max(1, n_times // sub_n_times)
    width = min(sub_n_times, n_times)
    subs = x[:, :, : k * width].reshape(n, 1, k, width).transpose(0, 2, 1, 3)
    f = sub_window_features(subs.reshape(n * k, 1, width), sfreq).reshape(n, k, -1)
    # (n, k, 11) -> percentiles over k -> (n, 11, 3) -> feature-major columns
    q = np.percentile(f, QUANTILES, axis=1).transpose(1, 2, 0)
    return q.reshape(n, -1)


class FeatureLinear(EmgModel):
    """Standardised window features -> one linear layer (logits).

    Parameters
    ----------
    n_chans, n_times, n_outputs, sfreq
        See :class:`~emgcore.models.base.EmgModel`; ``n_chans`` must be 1. The
        defaults are the shipped model's: 2 s windows at 4 kHz, three classes.
    sub_window_s : float
        Length of the sub-windows whose feature percentiles describe a window.
    input_units : str
        The unit the windows must be in ("uV"); :func:`emgcore.inference.predict`
        converts a recording to it, or refuses one without physical units.
    site_standardised : bool
        Standardise each window feature within the recording site first
        (subtract the site's mean over windows, divide by its spread), as the
        study found lifts accuracy and carries the model to a new laboratory
        (studies/site_norm.py). The site's statistics come from
        :func:`emgcore.site_calibration.calibrate_site`; until then the
        buffers are the identity and :func:`emgcore.inference.predict` refuses
        the model.
    """

    model_name: ClassVar[str] = "feature_linear"
    min_n_times: ClassVar[int] = 16

    def __init__(
        self,
        *,
        n_chans: int = 1,
        n_times: int = 8000,
        n_outputs: int = 3,
        sfreq: float = 4000.0,
        sub_window_s: float = 0.25,
        input_units: str = "uV",
        site_standardised: bool = False,
    ):
        super().__init__(
            n_chans=n_chans, n_times=n_times, n_outputs=n_outputs, sfreq=sfreq
        )
        if self.n_chans != 1:
            raise ValueError("FeatureLinear reads one channel ('n_chans' must be 1).")
        if not 0 < float(sub_window_s) <= self.n_times / self.sfreq:
            raise ValueError(
                f"'sub_window_s' must be in (0, {self.n_times / self.sfreq:g}] s, "
                f"got {sub_window_s!r}."
            )
        self._set_hparams(
            sub_window_s=float(sub_window_s),
            input_units=input_units,
            site_standardised=bool(site_standardised),
        )
        self.input_units = input_units
        self.site_standardised = bool(site_standardised)
        self.sub_n_times = max(16, int(round(float(sub_window_s) * self.sfreq)))
        n_features = len(feature_names())
        # Filled from the fitted scikit-learn pipeline (imputer median, scaler).
        self.register_buffer("fill", torch.zeros(n_features, dtype=torch.float64))
        self.register_buffer("center", torch.zeros(n_features, dtype=torch.float64))
        self.register_buffer("scale", torch.ones(n_features, dtype=torch.float64))
        if self.site_standardised:
            # Only then: older checkpoints have no such buffers and load strictly.
            self.register_buffer(
                "site_center", torch.zeros(n_features, dtype=torch.float64)
            )
            self.register_buffer(
                "site_scale", torch.ones(n_features, dtype=torch.float64)
            )
        self.linear = nn.Linear(n_features, self.n_outputs).double()

    def encoder_modules(self) -> list[nn.Module]:
        return []

    def raw_features(self, x: torch.Tensor) -> torch.Tensor:
        """The window rows (n_windows, 33) before any standardisation."""
        self._check_input(x)
        return torch.from_numpy(
            window_features(x.detach().cpu().numpy(), self.sfreq, self.sub_n_times)
        ).to(self.center.device)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Standardised features (n_windows, 33) of a batch of windows in uV."""
        f = self.raw_features(x)
        if self.site_standardised:
            # As studies/site_norm.py: non-finite values stay missing (NaN)
            # through the site step and are filled afterwards.
            f = torch.where(torch.isfinite(f), f, torch.nan)
            f = (f - self.site_center) / self.site_scale
        f = torch.where(torch.isfinite(f), f, self.fill)
        return (f - self.center) / self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x)).float()

    @torch.no_grad()
    def set_site_statistics(self, mean, spread) -> None:
        """Set the site's per-feature mean and spread (length 33 each)."""
        if not self.site_standardised:
            raise ValueError(
                "This FeatureLinear is not site-standardised "
                "('site_standardised' is False); it has no site statistics."
            )
        mean = torch.as_tensor(np.asarray(mean, dtype=np.float64))
        spread = torch.as_tensor(np.asarray(spread, dtype=np.float64))
        n = self.site_center.shape[0]
        if mean.shape != (n,) or spread.shape != (n,):
            raise ValueError(
                f"Site statistics need {n} values each, got {tuple(mean.shape)} "
                f"and {tuple(spread.shape)}."
            )
        if not (torch.isfinite(mean).all() and (spread > 0).all()):
            raise ValueError("Site means must be finite and spreads positive.")
        self.site_center.copy_(mean)
        self.site_scale.copy_(spread)

    @torch.no_grad()
    def set_from_sklearn(self, pipeline) -> None:
        """Copy a fitted ``SimpleImputer -> StandardScaler -> LogisticRegression``."""
        imputer, scaler, clf = (step for _, step in pipeline.steps)
        self.fill.copy_(torch.as_tensor(imputer.statistics_, dtype=torch.float64))
        self.center.copy_(torch.as_tensor(scaler.mean_, dtype=torch.float64))
        self.scale.copy_(torch.as_tensor(scaler.scale_, dtype=torch.float64))
        self.linear.weight.copy_(torch.as_tensor(clf.coef_, dtype=torch.float64))
        self.linear.bias.copy_(torch.as_tensor(clf.intercept_, dtype=torch.float64))
