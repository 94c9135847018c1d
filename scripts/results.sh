#!/usr/bin/env bash
# `make results`: every number of docs/RESULTS.md (disease part), end to end.
# Resumable: each run writes one file under runs/ and is skipped when present.
# Sized for 2 CPU cores ("cpu" budget, see emgcore/disease.py: Budget.cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export OMP_NUM_THREADS=1   # two single-threaded jobs side by side use 2 cores best
RUNS=runs/disease
SEEDS="0 1 2 3 4"
EMG="$PY -m emgcore"

pre() {
  [ -f models/pretrained/cnn_tcn-$1.pt ] || $EMG train pretrain --source $1 \
    --out models/pretrained/cnn_tcn-$1.pt --budget cpu --no-progress
}
PRE=""
for s in ninapro_db1 myo_readings mix; do PRE="$PRE tl-$s=models/pretrained/cnn_tcn-$s.pt"; done
loso() { $EMG evaluate protocol --protocol n2001_loso --runs $RUNS --pretrained $PRE "$@"; }
emgdb() {
  for p in paper blocked; do
    $EMG evaluate protocol --protocol $p --runs $RUNS --seeds $SEEDS --pretrained $PRE "$@"
  done
}

# 1. Pretrain the encoder on each gesture source (NinaPro DB1, myo-readings, both).
pre ninapro_db1 & pre myo_readings & wait

# 2. Which source helps the disease task most: N2001 leave-one-subject-out, seed 0.
#    Two lanes side by side; scratch and the classic peers do not need the choice.
( pre mix && loso --seeds 0 --methods tl-mix ) &
( loso --seeds 0 --methods tl-ninapro_db1 tl-myo_readings lda logreg rf &&
  loso --seeds $SEEDS --methods scratch lda logreg rf && emgdb --methods scratch ) &
wait
BEST=$($EMG evaluate best-source --runs $RUNS)
echo "best pretraining source: $BEST"

# 3. The chosen source over five seeds on all three protocols (with the classic peers).
loso --seeds $SEEDS --methods $BEST &
emgdb --methods $BEST lda logreg rf &
wait

# 4. 1 kHz (the paper) vs 4 kHz input for needle EMG, with the classic peers.
$EMG evaluate protocol --protocol n2001_loso --runs runs/disease_4k --rate-hz 4000 \
  --seeds $SEEDS --methods lda logreg rf
$EMG evaluate summary --runs runs/disease_4k --rate-hz 4000 --out docs/results/rate_4k

# 5. Tables, figures, the default model and its card.
$EMG evaluate summary --runs $RUNS --out docs/results
DEFAULT=$($PY -c "import json; print(json.load(open('docs/results/disease.json'))['default_method'])")
if [ "$DEFAULT" = scratch ]; then
  $EMG train disease --method scratch --out models/disease/default.pt --budget cpu --no-progress
else
  $EMG train disease --method tl --pretrained models/pretrained/cnn_tcn-${DEFAULT#tl-}.pt \
    --out models/disease/default.pt --budget cpu --no-progress
fi
echo "done: docs/results/disease.json, docs/results/disease_tables.md, models/disease/default.pt"
