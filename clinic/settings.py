"""Myolens settings, read from top to bottom.

Everything deploy-specific comes from environment variables (see
``.env.example``). The defaults are the embedded ones ``make run`` uses on a
bare laptop: SQLite and Celery's filesystem broker, nothing to install.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from pythonjsonlogger.core import RESERVED_ATTRS as JSON_LOG_RESERVED_ATTRS

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MYOLENS_VAR_DIR", BASE_DIR / "var"))

env = environ.Env()


def envsecret(name: str, default: str | None = None) -> str | None:
    """Read ``NAME``, or the file named by ``NAME_FILE`` (Docker secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE={path} cannot be read: {exc}"
            ) from exc
    return os.environ.get(name, default)


DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (or SECRET_KEY_FILE), or set "
            "DEBUG=true for local development only."
        )
    SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-on"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "clinic",
    "clinic.gestures",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.roles",
            ],
        },
    },
]

# --- Database: SQLite by default, PostgreSQL with DATABASE_URL=postgres://... ---
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'myolens.sqlite3'}"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# AUTH_PASSWORD_VALIDATORS: see the security block at the end.

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Files ---
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Recordings, calibration files and adapted gesture checkpoints: the local
# filesystem under MEDIA_ROOT by default; EMG_STORAGE=s3 keeps them in an
# S3-compatible bucket, so web and workers on different hosts share them without
# a shared disk. Every read checks the sha256 (clinic/stored_files.py).
EMG_STORAGE = env.str("EMG_STORAGE", default="filesystem")
if EMG_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME", default="myolens"),
            # MinIO, Ceph or moto; unset for AWS itself.
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "access_key": envsecret("AWS_ACCESS_KEY_ID"),
            "secret_key": envsecret("AWS_SECRET_ACCESS_KEY"),
            # Names are content addresses: stored bytes are never replaced.
            "file_overwrite": False,
            # Objects stay private; the app streams them, never links to them.
            "default_acl": None,
            "querystring_auth": True,
        },
    }
elif EMG_STORAGE != "filesystem":
    raise ImproperlyConfigured(
        f"EMG_STORAGE must be 'filesystem' or 's3', not {EMG_STORAGE!r}."
    )

# --- EMG specifics ---
EMG_MAX_UPLOAD_MB = env.int("EMG_MAX_UPLOAD_MB", default=200)
if EMG_MAX_UPLOAD_MB <= 0:
    raise ImproperlyConfigured("EMG_MAX_UPLOAD_MB must be a positive number of MB.")
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024  # form fields; files stream to disk
EMG_MODEL_DIR = Path(env.str("EMG_MODEL_DIR", default=str(BASE_DIR / "models")))
# Local copies of checkpoints kept in file storage (retrained candidates), one
# per sha256; a worker fetches each once and checks it before every use.
EMG_CHECKPOINT_CACHE_DIR = Path(
    env.str("EMG_CHECKPOINT_CACHE_DIR", default=str(VAR_DIR / "checkpoint-cache"))
)
EMG_DATA_DIR = Path(
    env.str("EMG_DATA_DIR", default=str(BASE_DIR.parent / "shared" / "data"))
)
# A model is promoted only if every class reaches these (checkpoint metadata).
EMG_MIN_SENSITIVITY = env.float("EMG_MIN_SENSITIVITY", default=0.5)
EMG_MIN_SPECIFICITY = env.float("EMG_MIN_SPECIFICITY", default=0.5)
for _name in ("EMG_MIN_SENSITIVITY", "EMG_MIN_SPECIFICITY"):
    if not 0.0 <= globals()[_name] <= 1.0:
        raise ImproperlyConfigured(f"{_name} must be between 0 and 1.")
# Retraining: at most this many training windows (spread evenly over the
# recordings; validation gets a quarter of it), and the bootstrap resamples of
# every evaluation (CIs); lower both for quick demonstrations.
# A promotion needs a subject-held-out evaluation with this many people per class.
EMG_MIN_EVAL_PEOPLE_PER_CLASS = env.int("EMG_MIN_EVAL_PEOPLE_PER_CLASS", default=3)
if EMG_MIN_EVAL_PEOPLE_PER_CLASS < 1:
    raise ImproperlyConfigured("EMG_MIN_EVAL_PEOPLE_PER_CLASS must be at least 1.")
EMG_RETRAIN_MAX_WINDOWS = env.int("EMG_RETRAIN_MAX_WINDOWS", default=3000)
EMG_EVAL_N_BOOT = env.int("EMG_EVAL_N_BOOT", default=1000)
if EMG_RETRAIN_MAX_WINDOWS < 3 or EMG_EVAL_N_BOOT < 10:
    raise ImproperlyConfigured(
        "EMG_RETRAIN_MAX_WINDOWS must be >= 3 and EMG_EVAL_N_BOOT >= 10."
    )
# Gesture adaptation: cap on fine-tuning epochs (unset = emgcore's recipe).
EMG_GESTURE_ADAPT_EPOCHS = env.int("EMG_GESTURE_ADAPT_EPOCHS", default=None)
# Auditor reports from confirmed cases say "too few" below this many cases.
EMG_REPORT_MIN_CASES = env.int("EMG_REPORT_MIN_CASES", default=10)
EMG_DEVICE = env.str("EMG_DEVICE", default="cpu")
if EMG_DEVICE not in ("cpu", "cuda"):
    raise ImproperlyConfigured(
        f"EMG_DEVICE must be 'cpu' or 'cuda', not {EMG_DEVICE!r}."
    )
# Threads of torch/BLAS per Celery worker process; 0 = the worker's cores divided
# by its concurrency, so N processes share the cores (clinic/worker_threads.py).
EMG_WORKER_THREADS = env.int("EMG_WORKER_THREADS", default=0)
if EMG_WORKER_THREADS < 0:
    raise ImproperlyConfigured("EMG_WORKER_THREADS must be 0 (automatic) or more.")

# --- Celery: the filesystem broker needs no server; Redis in production ---
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    # kombu's filesystem transport expects its folders to exist already.
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
# Job state lives on database rows; a result backend is optional (tests use one).
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ACKS_LATE = True
# A task whose pool process was killed goes back to the queue instead of being
# acknowledged as failed (clinic/services/jobs.py, docs/OPERATIONS.md).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Job leases: a RUNNING job whose lease (renewed every quarter lease while it
# runs) is older than this lost its worker and may be claimed again.
EMG_JOB_LEASE_S = env.float("EMG_JOB_LEASE_S", default=120.0)
# Claims of one job before it ends FAILED instead of looping.
EMG_JOB_MAX_ATTEMPTS = env.int("EMG_JOB_MAX_ATTEMPTS", default=3)
# Queue the analysis tasks are sent to ("" = Celery's default queue).
EMG_ANALYSIS_QUEUE = env.str("EMG_ANALYSIS_QUEUE", default="")
# Workers record that they are alive, per queue they consume, this often (a
# thread, so a long job does not silence them); /health/ answers 503 when a queue
# that needs a worker has had none for longer than the limit (docs/OPERATIONS.md).
EMG_WORKER_BEAT_S = env.float("EMG_WORKER_BEAT_S", default=30.0)
EMG_HEALTH_WORKER_LIMIT_S = env.float("EMG_HEALTH_WORKER_LIMIT_S", default=120.0)
# Seconds a job sleeps after its claim, under its lease (an analysis; a
# retraining or gesture adaptation): for the worker-kill tests only, so the job
# is RUNNING when they kill its worker.
EMG_ANALYSIS_TEST_DELAY_S = env.float("EMG_ANALYSIS_TEST_DELAY_S", default=0.0)
EMG_TRAINING_TEST_DELAY_S = env.float("EMG_TRAINING_TEST_DELAY_S", default=0.0)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # An unacknowledged message (its worker died) comes back after this. It must
    # exceed the analysis time limit; training messages that come back while
    # their run is alive find a live lease or a finished run and do nothing.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=900)
    }
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A new pool process imports torch in worker_process_init (clinic/worker_threads.py)
# before it reports "up"; on a busy machine that takes longer than Celery's 4 s
# default, and Celery then kills it and forks another, in a loop: the pool that
# replaces a killed one could take minutes to come back (seen in the
# worker-kill tests).
CELERY_WORKER_PROC_ALIVE_TIMEOUT = env.float(
    "CELERY_WORKER_PROC_ALIVE_TIMEOUT", default=60.0
)
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Queue of retraining, report curves and gesture adaptation: a worker's retry
# and sweep send to it too, so a test worker on a private queue sets it.
EMG_TRAINING_QUEUE = env.str("EMG_TRAINING_QUEUE", default="training")
CELERY_TASK_ROUTES = {"clinic.tasks.*training*": {"queue": EMG_TRAINING_QUEUE}}
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=660)
# Retraining runs on the `training` queue with its own, longer limits.
EMG_TRAINING_SOFT_TIME_LIMIT = env.int("EMG_TRAINING_SOFT_TIME_LIMIT", default=6 * 3600)
EMG_TRAINING_TIME_LIMIT = env.int("EMG_TRAINING_TIME_LIMIT", default=6 * 3600 + 300)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- JSON API (/api/v1): token or session auth, login required everywhere ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Myolens API",
    "DESCRIPTION": "EMG decision support: upload recordings, poll jobs, read results.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# ============================== Security =====================================
# Everything about abuse resistance and transport security lives in this block
# (docs/SECURITY.md says why each value is what it is). It extends the lists
# above rather than editing them in place.

# --- Transport (production: behind a TLS-terminating proxy) ---
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
# Trust X-Forwarded-Proto (and X-Forwarded-For, see clinic/security.py) only
# when a proxy that sets them is in front: otherwise any client could.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Sessions on shared clinic workstations ---
# Signed out after SESSION_IDLE_MINUTES without a page view or action, and when
# the browser closes. Status polls of an open job page do not count as activity
# (clinic.security.IdleSessionMiddleware), so a screen left on a long
# retraining still signs itself out.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
if SESSION_IDLE_MINUTES <= 0:
    raise ImproperlyConfigured("SESSION_IDLE_MINUTES must be a positive number.")
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = False  # the middleware decides what is activity
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Passwords: at least 12 characters, not common, not all digits ---
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Cache: API throttle counters ---
# Local memory by default (one process: tests, `make run`); with several
# gunicorn workers each keeps its own counts, so production sets CACHE_URL to
# Redis (.env.example) for one shared count.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# --- Login lockout (django-axes) ---
# LOGIN_FAILURE_LIMIT wrong passwords in a row for one username lock that
# username for LOGIN_LOCKOUT_MINUTES (0: until an admin unlocks it); every
# further try during the lockout restarts the wait. Locking by username, not
# by address: a clinic's workstations often share one address, and one
# mistyping colleague must not lock out the whole ward.
INSTALLED_APPS += ["axes", "csp"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked usernames first
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
_lockout_minutes = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
if AXES_FAILURE_LIMIT < 1 or _lockout_minutes < 0:
    raise ImproperlyConfigured(
        "LOGIN_FAILURE_LIMIT must be >= 1 and LOGIN_LOCKOUT_MINUTES >= 0."
    )
AXES_COOLOFF_TIME = timedelta(minutes=_lockout_minutes) if _lockout_minutes else None
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "clinic.security.client_ip"
# W006 warns that a username-only lockout can be dodged by changing the
# User-Agent; it cannot: the attempts are counted per username alone.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_ENABLE_ADMIN = True


# --- API throttles (DRF); "off" disables one ---
def _rate(name: str, default: str) -> str | None:
    value = env.str(name, default=default).strip()
    return None if value.lower() in ("", "off", "none") else value


REST_FRAMEWORK.update(
    {
        "DEFAULT_THROTTLE_CLASSES": [
            "clinic.security.AnonThrottle",
            "clinic.security.UserThrottle",
        ],
        "DEFAULT_THROTTLE_RATES": {
            "anon": _rate("API_THROTTLE_ANON", "30/minute"),
            "user": _rate("API_THROTTLE_USER", "300/minute"),
            # Upload POSTs (recordings and gesture sessions), on top of "user".
            "uploads": _rate("API_THROTTLE_UPLOADS", "30/minute"),
        },
        "EXCEPTION_HANDLER": "clinic.security.api_exception_handler",
    }
)

# --- Upload quota per user over the last 24 hours (web and API; 0 = none) ---
EMG_UPLOAD_QUOTA_PER_DAY = env.int("EMG_UPLOAD_QUOTA_PER_DAY", default=200)
EMG_UPLOAD_QUOTA_MB_PER_DAY = env.int("EMG_UPLOAD_QUOTA_MB_PER_DAY", default=2000)
if EMG_UPLOAD_QUOTA_PER_DAY < 0 or EMG_UPLOAD_QUOTA_MB_PER_DAY < 0:
    raise ImproperlyConfigured("The EMG_UPLOAD_QUOTA_* settings must be >= 0.")

# --- Content-Security-Policy (django-csp) ---
# Scripts only from this site, and inline ones only with the per-response
# nonce (none are needed today; templates put it on their <script> tags).
# plotly.js 4 needs no eval. It does add <style> elements and style=""
# attributes while drawing (hover labels, modebar), which a strict style-src
# blocks: style-src allows inline styles. Styles cannot run code, and pages
# escape every user value, so the risk left is small; scripts stay strict.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
    "clinic.security.IdleSessionMiddleware",
)
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as axes asks
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        # plotly's "download as PNG" draws through data: and blob: images.
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        # Only where the site is served over https (not `make run` on http).
        "upgrade-insecure-requests": SECURE_SSL_REDIRECT,
    }
}

# --- Prometheus metrics at /metrics (clinic/metrics.py, docs/OPERATIONS.md) ---
# django-prometheus times every request: its first middleware goes first, its
# last one just inside axes (so it still sees axes' lockout responses).
INSTALLED_APPS += ["django_prometheus"]
MIDDLEWARE.insert(0, "django_prometheus.middleware.PrometheusBeforeMiddleware")
MIDDLEWARE.insert(
    MIDDLEWARE.index("axes.middleware.AxesMiddleware"),
    "django_prometheus.middleware.PrometheusAfterMiddleware",
)
# Scrapers are let in from these addresses or networks (the client address of
# clinic.security.client_ip, so behind the proxy the real one) or with
# "Authorization: Bearer <EMG_METRICS_TOKEN>"; everyone else gets 403.
EMG_METRICS_ALLOWED_IPS = env.list(
    "EMG_METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"]
)
EMG_METRICS_TOKEN = envsecret("EMG_METRICS_TOKEN") or ""
# The duration histogram covers the jobs that finished in this many hours.
EMG_METRICS_WINDOW_HOURS = env.float("EMG_METRICS_WINDOW_HOURS", default=24.0)
if EMG_METRICS_WINDOW_HOURS <= 0:
    raise ImproperlyConfigured("EMG_METRICS_WINDOW_HOURS must be positive.")

# --- Logs: plain text, or one JSON object per line (EMG_LOG_FORMAT=json) ---
# Every line carries the request id (web) or the job id (workers, while a job
# runs): clinic/logging_context.py, docs/OPERATIONS.md.
EMG_LOG_FORMAT = env.str("EMG_LOG_FORMAT", default="plain")
if EMG_LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(
        f"EMG_LOG_FORMAT must be 'plain' or 'json', not {EMG_LOG_FORMAT!r}."
    )
# First, so every other middleware's lines already have the id.
MIDDLEWARE.insert(0, "clinic.logging_context.RequestIdMiddleware")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "clinic.logging_context.ContextFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s%(log_context)s: %(message)s"
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s "
            "%(request_id)s %(job_kind)s %(job_id)s %(process)d",
            "rename_fields": {"asctime": "time", "levelname": "level"},
            # log_context is the plain format's rendering of the same ids.
            "reserved_attrs": [*JSON_LOG_RESERVED_ATTRS, "log_context"],
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": EMG_LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
# Celery workers keep this configuration instead of installing their own root
# handler, so their lines have the same format and the job ids.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
