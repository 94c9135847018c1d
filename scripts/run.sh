#!/usr/bin/env bash
# `make run`: migrate, then start a Celery worker and the web server together on
# the embedded defaults (SQLite + filesystem broker) unless DATABASE_URL /
# CELERY_BROKER_URL say otherwise. Ctrl-C stops both. DEMO_USERS=1 creates one
# demo account per role (printing new passwords).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p var

# A per-installation secret, generated once and kept out of git.
if [ -z "${SECRET_KEY:-}" ]; then
  if [ ! -s var/secret_key ]; then
    $PY -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key
    chmod 600 var/secret_key
  fi
  export SECRET_KEY_FILE="$PWD/var/secret_key"
fi
export DJANGO_SETTINGS_MODULE=clinic.settings
HOST="${MYOLENS_HOST:-127.0.0.1}"
PORT="${MYOLENS_PORT:-8000}"

$PY manage.py migrate --no-input
# The shipped pretrained gesture model (idempotent; skipped if not built).
$PY manage.py import_gesture_checkpoint --if-present
$PY manage.py collectstatic --no-input >/dev/null

# The shipped default disease model becomes the active one on first start; an
# active model is never replaced (promotions belong to admins).
DEFAULT_MODEL=models/disease/default.pt
if [ -f "$DEFAULT_MODEL" ]; then
  # Activated only when its recorded evaluation passes the promotion gate
  # (subject-held-out, EMG_MIN_EVAL_PEOPLE_PER_CLASS people per class, the
  # minimum sensitivity and specificity). Otherwise it stays a candidate, the
  # app starts all the same and its pages say why no model is active.
  $PY manage.py import_checkpoint "$DEFAULT_MODEL" --activate --if-no-active \
    || echo "The default model was registered but not activated (see above); the Models page says why."
fi
# `make run DEMO_USERS=1`: one demo account per role, new passwords printed once.
if [ "${DEMO_USERS:-0}" = "1" ]; then
  $PY manage.py create_demo_users
fi

$PY -m celery -A clinic worker -Q celery,training --concurrency 1 \
  --loglevel INFO --logfile var/worker.log &
WORKER_PID=$!
trap 'kill $WORKER_PID 2>/dev/null || true; wait $WORKER_PID 2>/dev/null || true' EXIT INT TERM

echo
echo "Myolens is running at http://$HOST:$PORT/  (health: http://$HOST:$PORT/health/)"
echo "Worker log: var/worker.log. Press Ctrl-C to stop."
echo
$PY -m gunicorn clinic.wsgi:application --bind "$HOST:$PORT" --workers 2 \
  --access-logfile - --timeout 120
