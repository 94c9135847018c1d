"""The CNN study method: amplitude kept, test people unseen, probabilities per record."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from studies.cnn_method import CnnAmplitude, _scaled
from studies.runner import Part


def test_fixed_scale_keeps_amplitude_and_zscore_removes_it():
    x = np.random.default_rng(0).normal(size=(4, 1, 200)) * 50
    assert np.allclose(_scaled(2 * x, 200.0), 2 * _scaled(x, 200.0))
    assert np.allclose(_scaled(2 * x, None), _scaled(x, None), atol=1e-5)


def _records(n, label, y, prefix):
    return [
        SimpleNamespace(record=f"{prefix}{i}", subject=f"{prefix}{i}", label=label, y=y)
        for i in range(n)
    ]


def test_training_reads_no_window_of_a_test_record():
    rng = np.random.default_rng(1)
    recs = []
    for y, label in enumerate(("healthy", "myopathy", "neuropathy")):
        recs += _records(3, label, y, f"{label[0]}")
    test = _records(2, "healthy", 0, "t")
    ids = np.repeat([r.record for r in recs + test], 4)
    y = np.repeat([r.y for r in recs + test], 4)
    X = rng.normal(size=(ids.size, 1, 200)).astype(np.float32) * 100
    # Test windows are NaN: if training read one, the loss and weights go NaN.
    X[np.isin(ids, [r.record for r in test])] = np.nan
    ws = SimpleNamespace(X=X, y=y, recording_ids=ids, sfreq=4000.0)
    method = CnnAmplitude(ws, epochs=1, patience=1, train_windows=4, predict_windows=4)
    fitted = method.select_and_fit(Part(recs[::2], None), Part(recs[1::2], None))
    assert np.isfinite(np.asarray(fitted.info["val_proba"])).all()
    ws.X[np.isnan(ws.X)] = 0.0
    p = fitted.predict_proba(Part(test, None))
    assert p.shape == (2, 3) and np.allclose(p.sum(axis=1), 1.0)
