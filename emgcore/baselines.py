"""The classic feature pipeline: hand-crafted EMG features + scikit-learn.

This is what a practitioner would try first, and the peer every deep model
here has to beat: per-channel time- and frequency-domain features (MAV, RMS,
WL, ZC, SSC, MNF, MDF, as in LibEMG) standardised and fed to linear
discriminant analysis, logistic regression or a random forest. For gestures
the Hudgins set (MAV, ZC, SSC, WL) with LDA is the long-standing reference
(Hudgins et al. 1993; Englehart & Hudgins 2003).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from emgcore._validation import _check_option
from emgcore.features import DEFAULT_FEATURES, HUDGINS_FEATURES, extract_features

logger = logging.getLogger(__name__)

#: Classifier names accepted by :func:`make_classic_classifier`.
CLASSIFIERS: tuple[str, ...] = ("lda", "logreg", "rf")
#: Feature sets accepted by :func:`fit_predict_classic`.
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "td_fd": DEFAULT_FEATURES,
    "hudgins": HUDGINS_FEATURES,
}


def make_classic_classifier(name: str = "lda", *, seed: int = 0) -> Any:
    """A scikit-learn pipeline: StandardScaler + one classic classifier.

    Parameters
    ----------
    name : {"lda", "logreg", "rf"}
        Linear discriminant analysis (least-squares solver with automatic
        shrinkage, robust with few windows per class), multinomial logistic
        regression, or a 300-tree random forest.
    seed : int
        ``random_state`` of the stochastic classifiers.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted.
    """
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    _check_option("classifier", name, CLASSIFIERS)
    if name == "lda":
        clf = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    elif name == "logreg":
        clf = LogisticRegression(max_iter=2000, C=1.0, random_state=seed)
    else:
        clf = RandomForestClassifier(n_estimators=300, random_state=seed, n_jobs=1)
    return make_pipeline(StandardScaler(), clf)


def classic_features(
    windows: NDArray[np.floating],
    sfreq: float,
    feature_set: str = "td_fd",
    *,
    log_amplitude: bool = True,
) -> tuple[NDArray[np.float64], list[str]]:
    """The feature matrix of the classic pipeline.

    Parameters
    ----------
    windows : ndarray, shape (n_windows, n_chans, n_times)
    sfreq : float
        Sampling rate in Hz.
    feature_set : {"td_fd", "hudgins"}
        ``"td_fd"``: MAV, RMS, WL, ZC, SSC, MNF, MDF; ``"hudgins"``: MAV, ZC,
        SSC, WL.
    log_amplitude : bool
        Take ``log(1e-12 + value)`` of the amplitude features (MAV, RMS, WL),
        which are roughly log-normal across windows and subjects.

    Returns
    -------
    features : ndarray, shape (n_windows, n_chans * n_features)
    names : list of str
    """
    _check_option("feature_set", feature_set, tuple(FEATURE_SETS))
    feats, names = extract_features(windows, sfreq, FEATURE_SETS[feature_set])
    if log_amplitude:
        amp = [
            i for i, n in enumerate(names) if n.split("_")[0] in ("MAV", "RMS", "WL")
        ]
        feats[:, amp] = np.log(1e-12 + feats[:, amp])
    return feats, names


@dataclass(frozen=True)
class ClassicConfig:
    """Which classic pipeline :func:`fit_predict_classic` fits.

    ``classifier`` (see :func:`make_classic_classifier`), ``feature_set`` and
    ``log_amplitude`` (see :func:`classic_features`). Checked when used.
    """

    classifier: str = "lda"
    feature_set: str = "td_fd"
    log_amplitude: bool = True


#: Standardised MAV, RMS, WL, ZC, SSC, MNF, MDF with LDA.
CLASSIC_CONFIG = ClassicConfig()


def fit_predict_classic(
    train_windows: NDArray[np.floating],
    y_train: ArrayLike,
    test_windows: NDArray[np.floating],
    sfreq: float,
    config: ClassicConfig = CLASSIC_CONFIG,
    *,
    n_classes: int | None = None,
    seed: int = 0,
) -> NDArray[np.float64]:
    """Fit the classic pipeline on training windows, predict test windows.

    Parameters
    ----------
    train_windows : ndarray, shape (n_train, n_chans, n_times)
    y_train : array-like of int, shape (n_train,)
        Class indices in ``0 .. n_classes - 1``.
    test_windows : ndarray, shape (n_test, n_chans, n_times)
    sfreq : float
        Sampling rate in Hz of both sets.
    config : ClassicConfig
        Classifier (``"lda"``, ``"logreg"``, ``"rf"``), feature set
        (``"td_fd"``, ``"hudgins"``) and log of the amplitude features.
    n_classes : int, optional
        Number of classes of the task; default ``max(y_train) + 1``. Classes
        missing from the training data (as in leave-one-subject-out folds)
        get probability 0.
    seed : int

    Returns
    -------
    ndarray, shape (n_test, n_classes)
        Class probabilities; column ``k`` is class ``k``.
    """
    y = np.asarray(y_train)
    if y.ndim != 1 or y.shape[0] != np.shape(train_windows)[0]:
        raise ValueError(
            f"'y_train' must have one label per training window "
            f"({np.shape(train_windows)[0]}), got shape {y.shape}."
        )
    y = y.astype(np.int64)
    k = int(y.max()) + 1 if n_classes is None else int(n_classes)
    if y.min() < 0 or y.max() >= k:
        raise ValueError(
            f"'y_train' labels must lie in 0..{k - 1}, got {y.min()}..{y.max()}."
        )
    if np.unique(y).size < 2:
        raise ValueError(
            "'y_train' must hold at least two classes to fit a classifier."
        )
    features, logged = config.feature_set, config.log_amplitude
    x_train, _ = classic_features(train_windows, sfreq, features, log_amplitude=logged)
    x_test, _ = classic_features(test_windows, sfreq, features, log_amplitude=logged)
    model = make_classic_classifier(config.classifier, seed=seed)
    model.fit(x_train, y)
    proba = np.zeros((x_test.shape[0], k))
    proba[:, model.classes_] = model.predict_proba(x_test)
    return proba
