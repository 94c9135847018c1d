#!/usr/bin/env bash
# Assemble the full results notebook (docs/experiments/2026-12-01-results-notebook.md) from its parts: the hand-written set-up and discussion,
# the tables `python -m studies evaluate summary` generated, and the gesture section.
set -euo pipefail
cd "$(dirname "$0")/.."
{
  cat docs/RESULTS_INTRO.md
  echo
  echo "### Results of the paper's recipe at 1 kHz (generated: docs/results/disease_tables.md)"
  echo
  cat docs/results/disease_tables.md
  echo
  if [ -f docs/results/rate_4k/disease_tables.md ]; then
    echo "### Beyond the paper: 4 kHz input and class-balanced training (generated: docs/results/rate_4k/disease_tables.md)"
    echo
    cat docs/results/rate_4k/disease_tables.md
    echo
  fi
  cat docs/RESULTS_DISCUSSION.md
  echo
  cat docs/RESULTS_GESTURE.md
} > docs/experiments/2026-12-01-results-notebook.md
echo "wrote docs/experiments/2026-12-01-results-notebook.md"
