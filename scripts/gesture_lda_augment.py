"""Does the adaptation's gain augmentation help the Hudgins + LDA peer too?

For every target of an inter-subject run (its ``lda_target_k1.json`` units
give the targets and the test split), LDA is trained on the target's first
trial per gesture twice: on the windows as recorded (the table's "LDA, k
target trials") and on the same windows plus the copies
``emgcore.gesture.data.ADAPT_AUGMENT`` adds for the networks. Prints one line
per target and the paired mean.

    PYTHONPATH=. python scripts/gesture_lda_augment.py \
        runs/gesture/per_subject ninapro-db1-e1
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from emgcore.baselines import ClassicConfig, fit_predict_classic
from emgcore.gesture.data import (
    ADAPT_AUGMENT,
    cut_windows,
    get_spec,
    load_trials,
    split_adapt_test,
    subject_trials,
)


def main(run_dir: str, dataset: str) -> int:
    spec = get_spec(dataset)
    trials = load_trials(spec, None)
    n_classes = len(spec.class_names)
    units = sorted(Path(run_dir, spec.name).glob("units/fold*/*/lda_target_k1.json"))
    if not units:
        print(f"no lda_target_k1.json units under {run_dir}/{spec.name}")
        return 1
    plain, augmented = [], []
    for path in units:
        unit = json.loads(path.read_text(encoding="utf-8"))
        own = subject_trials(trials, unit["target"])
        adapt_trials, test_trials = split_adapt_test(own, k=1, k_max=unit["k_max"])
        train = cut_windows(adapt_trials, window=spec.window, step=spec.peer_step)
        test = cut_windows(test_trials, window=spec.window, step=spec.test_step)
        accs = []
        for X, y in ((train.X, train.y), ADAPT_AUGMENT.apply(train, seed=0)):
            proba = fit_predict_classic(
                X, y, test.X, spec.sfreq,
                ClassicConfig(classifier="lda", feature_set="hudgins"),
                n_classes=n_classes, seed=0,
            )  # fmt: skip
            accs.append(float((proba.argmax(1) == test.y).mean()))
        plain.append(accs[0])
        augmented.append(accs[1])
        print(f"{unit['target']}: LDA {accs[0]:.3f}, LDA + gain copies {accs[1]:.3f}")
    a, b = np.array(plain), np.array(augmented)
    print(
        f"{spec.name}, {len(a)} targets, k = 1: LDA {100 * a.mean():.1f} %, with the "
        f"gain copies {100 * b.mean():.1f} % ({100 * (b - a).mean():+.1f} points, "
        f"better on {(b > a).sum()}/{len(a)})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
