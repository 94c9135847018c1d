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
# The same window features with gradient-boosted trees, and both at 10 kHz
# (trees at 10 kHz: one window configuration, a CPU cut); one OpenMP thread per
# process (the default pool mostly waited on 2 shared cores).
export OMP_NUM_THREADS=1
$PY -m studies.run_window_linear --runs $RUNS --model trees
$PY -m studies.run_window_linear --runs $RUNS --protocols headline --rate-hz 10000
$PY -m studies.run_window_linear --runs $RUNS --protocols headline --rate-hz 10000 \
  --model trees --configs 2/0.25
# Features standardised within each site (studies.site_norm), for the window
# methods and for the classic peer alike.
$PY -m studies.run_window_linear --runs $RUNS --site-norm
$PY -m studies.run_window_linear --runs $RUNS --site-norm --model trees \
  --protocols headline cross_site --configs 2/0.25
$PY -m studies.run_features --runs $RUNS --site-norm --methods classic classic-logreg \
  --protocols headline cross_site
# Late-fusion ensembles, every weight and member set chosen on validation people.
$PY -m studies.ensemble --runs $RUNS --members window-linear window-trees
$PY -m studies.ensemble --runs $RUNS --members window-linear-10k window-trees-10k
$PY -m studies.ensemble --runs $RUNS --members window-linear-sitenorm window-trees-sitenorm
$PY -m studies.ensemble --runs $RUNS --name window-ensemble \
  --members window-linear window-trees window-linear-10k window-trees-10k \
  --combos window-linear window-linear,window-trees window-linear-10k \
  window-linear-10k,window-trees-10k
$PY -m studies.ensemble --runs $RUNS --name ensemble-nested \
  --members window-linear window-trees window-linear-10k window-trees-10k \
  classic-hgb classic-logreg classic+qemg-logreg \
  --combos window-linear window-linear,window-trees window-linear-10k,window-trees-10k \
  window-linear,window-trees-10k window-linear,classic-hgb \
  window-linear,window-trees,classic-hgb window-linear,classic+qemg-logreg \
  window-linear,classic-logreg
# Tables, calibration variants and confounds.
$PY -m studies.report --runs $RUNS
$PY -m studies.calibration_variants --runs $RUNS \
  --methods window-linear classic ensemble-nested window-linear-sitenorm \
  > docs/results/calibration.md
$PY -m studies.confounds --runs $RUNS
# The shipped model (models/disease/default.pt + card), its metrics from the units above.
$PY -m studies.shipped_model --runs $RUNS --method window-linear --out models/disease/default.pt
# The opt-in site-standardised model (shipped uncalibrated; docs/OPERATIONS.md).
$PY -m studies.shipped_model --runs $RUNS --method window-linear-sitenorm --site-norm \
  --out models/disease/site_standardised.pt
