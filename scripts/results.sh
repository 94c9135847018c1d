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
# Pretraining sources measured here: NinaPro DB1 and myo-readings. The mix of both
# ("--source mix") is implemented but was not run within the 2-core budget.
SOURCES="${SOURCES:-ninapro_db1 myo_readings}"
PRE=""
for s in $SOURCES; do PRE="$PRE tl-$s=models/pretrained/cnn_tcn-$s.pt"; done
loso() { $EMG evaluate protocol --protocol n2001_loso --runs $RUNS --pretrained $PRE "$@"; }
emgdb() {
  for p in paper blocked; do
    $EMG evaluate protocol --protocol $p --runs $RUNS --seeds $SEEDS --pretrained $PRE "$@"
  done
}

# 1. Pretrain the encoder on each gesture source.
for s in $SOURCES; do pre $s & done
wait

# 2. Which source helps the disease task most: N2001 leave-one-subject-out, seed 0,
#    one source per lane (two single-threaded lanes keep both cores busy).
loso --seeds 0 --methods lda logreg rf
for s in $SOURCES; do loso --seeds 0 --methods tl-$s & done
wait
BEST=$($EMG evaluate best-source --runs $RUNS)
echo "best pretraining source: $BEST"

# 3. The chosen source and scratch over five seeds on all three protocols, with the
#    classic-feature peers; work split over two lanes.
( loso --seeds 1 2 --methods $BEST && loso --seeds 0 1 --methods scratch lda logreg rf &&
  emgdb --methods $BEST lda logreg rf ) &
( loso --seeds 3 4 --methods $BEST && loso --seeds 2 3 4 --methods scratch lda logreg rf &&
  emgdb --methods scratch ) &
wait

# 4. Beyond the paper: 4 kHz input (0.25 s windows, same 1000 samples) keeps more of
#    the needle-EMG band; "scratch-bal" adds class-balanced loss weights.
$EMG evaluate protocol --protocol n2001_loso --runs runs/disease_4k --rate-hz 4000 \
  --seeds $SEEDS --methods lda logreg rf
$EMG evaluate protocol --protocol n2001_loso --runs runs/disease_4k --rate-hz 4000 \
  --seeds ${SEEDS_4K:-0 1 2} --methods scratch-bal

# 5. Tables, figures, the default model (the best deep method of N2001
#    leave-one-subject-out at either rate) and its card.
$EMG evaluate summary --runs $RUNS --out docs/results
$EMG evaluate summary --runs runs/disease_4k --rate-hz 4000 --out docs/results/rate_4k
read -r METHOD RATE SUMMARY < <($PY - <<'PYEOF'
import json
best = None
for path, rate in (("docs/results/disease.json", 1000), ("docs/results/rate_4k/disease.json", 4000)):
    s = json.load(open(path))
    if "default_method" in s and (best is None or s["default_score"] > best[0]):
        best = (s["default_score"], s["default_method"], rate, path)
print(best[1], best[2], best[3])
PYEOF
)
echo "default model: $METHOD at $RATE Hz (from $SUMMARY)"
# The shipped checkpoint is kept on a rerun (its card records the run that made
# it); RETRAIN_DEFAULT=1 trains it again from the current summary.
if [ -f models/disease/default.pt ] && [ "${RETRAIN_DEFAULT:-0}" != 1 ]; then
  METHOD=keep
fi
case "$METHOD" in
  keep) echo "models/disease/default.pt kept (RETRAIN_DEFAULT=1 to retrain)" ;;
  tl-*) $EMG train disease --method tl --pretrained models/pretrained/cnn_tcn-${METHOD#tl-}.pt \
          --rate-hz $RATE --results $SUMMARY --out models/disease/default.pt --budget cpu --no-progress ;;
  *)    $EMG train disease --method $METHOD --rate-hz $RATE --results $SUMMARY \
          --out models/disease/default.pt --budget cpu --no-progress ;;
esac

# 6. Embedding analysis of the default model, as in the paper (its training data).
for d in physionet_emgdb emglab_n2001; do
  $EMG evaluate embedding --model models/disease/default.pt --dataset $d \
    --out docs/results/figures/embedding-$d
done

# 7. docs/RESULTS.md from its parts.
bash scripts/build_results_md.sh
