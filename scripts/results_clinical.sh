#!/usr/bin/env bash
# `make results-clinical`: the clinical disease study (issue 15), end to end.
# Resumable: every unit is one JSON file under runs/clinical/ and is
# skipped when present. About 1.5 h on 2 CPU cores, most of it the CNN-TCN.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
RUNS=runs/clinical
# Feature methods (classic peer, QEMG, their mixes; minutes once the tables are cached).
$PY -m studies.run_features --runs $RUNS
# The shipped method: window features + logistic regression (minutes).
$PY -m studies.run_window_linear --runs $RUNS
# CNN-TCN in uV / 200 at 4 kHz, 3 seeds, and its cross-site units.
$PY -m studies.run_cnn --runs $RUNS --seeds 0 1 2 --name cnn-amp-4k-w12 \
  --train-windows 12 --epochs 12 --patience 3
$PY -m studies.run_cnn --runs $RUNS --seeds 0 --name cnn-amp-4k-w12 \
  --train-windows 12 --epochs 12 --patience 3 --protocols cross_site
# The paper's input (per-window z-score) and the 6-window pilot, one seed each.
$PY -m studies.run_cnn --runs $RUNS --seeds 0 --name cnn-z-4k-w12 \
  --train-windows 12 --epochs 12 --patience 3 --zscore
$PY -m studies.run_cnn --runs $RUNS --seeds 0 --name cnn-amp-4k
# Late fusion of the network and the nested feature method.
$PY -m studies.hybrid --runs $RUNS --a cnn-amp-4k-w12 --b features-auto \
  --protocols headline cross_site
# Tables and confounds.
$PY -m studies.report --runs $RUNS
$PY -m studies.confounds --runs $RUNS
# The shipped model (models/disease/default.pt + card), its metrics from the units above.
$PY -m studies.shipped_model --runs $RUNS --method window-linear --out models/disease/default.pt
