"""Clinic tests run on the real PostgreSQL and Redis servers (never skipped)."""

from __future__ import annotations

import os

import pytest
from django.conf import settings

from tests.conftest import make_tiny_clinic_checkpoint


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if os.environ.get("CI") == "true" and "postgresql" not in engine:
        raise pytest.UsageError(
            "CI must run the clinic tests on PostgreSQL; DATABASE_URL points at "
            f"{engine}. Run them through `make test`."
        )


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis used by broker tests; fails (not skips) when it is down."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {url} is not reachable ({exc}); start it (see README).")
    return url


@pytest.fixture(autouse=True)
def _plain_static_storage(settings, tmp_path):
    # The manifest storage needs `collectstatic`; tests serve static files as-is
    # and keep uploads in a temporary MEDIA_ROOT.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMG_CHECKPOINT_CACHE_DIR = tmp_path / "checkpoint-cache"
    # Real hashing costs ~1 s per user on the shared CPUs; tests need no secrecy.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def emgdb(data_dir):
    """The PhysioNet emgdb folder (real needle EMG, 4 kHz)."""
    return data_dir / "physionet-emgdb"


@pytest.fixture
def uploaded_files(emgdb):
    """``uploaded_files("emg_healthy")`` -> the .hea/.dat pair as uploaded files."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    def factory(record: str = "emg_healthy", suffixes=(".hea", ".dat")):
        return [
            SimpleUploadedFile(record + s, (emgdb / (record + s)).read_bytes())
            for s in suffixes
        ]

    return factory


@pytest.fixture
def model_dir(settings, tmp_path):
    path = tmp_path / "models"
    path.mkdir()
    settings.EMG_MODEL_DIR = path
    return path


@pytest.fixture
def active_model(tiny_clinic_checkpoint):
    """The tiny real checkpoint, registered and active (through the service)."""
    from clinic.services import model_version_register

    return model_version_register(checkpoint_path=tiny_clinic_checkpoint, activate=True)


@pytest.fixture
def predict_calls(monkeypatch):
    """Count calls of the real model call (``clinic.services.analysis._predict``)."""
    from clinic.services import analysis

    calls = []
    real = analysis._predict

    def spy(recording, checkpoint_path, model_version):
        calls.append((recording, checkpoint_path))
        return real(recording, checkpoint_path, model_version)

    monkeypatch.setattr(analysis, "_predict", spy)
    return calls


@pytest.fixture
def tiny_clinic_checkpoint(model_dir):
    """A checkpoint the model registry takes and promotes, in EMG_MODEL_DIR.

    Not tests/conftest.py's ``tiny_checkpoint`` (emgcore's CNN-TCN, shared by
    the session): this one is a 1-channel All-ConvNet (fast in a worker) with a
    held-out evaluation, and a fresh file per test, which some tests change.
    """
    return make_tiny_clinic_checkpoint(model_dir / "tiny-allconvnet.pt")


CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium as root in a sandbox-less container, with no background traffic
# (the machine has no network beyond the package registries).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Registered in every page before its own scripts: a CSP violation is logged
# to the console like Chromium's own "Refused to ..." messages, with the
# directive and what was blocked.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(
    "Content Security Policy violation: " + e.violatedDirective + " blocked " +
    (e.blockedURI || "inline") + " in " + (e.sourceFile || document.location.href) +
    ":" + e.lineNumber
  );
});
"""
CSP_MARKERS = ("Content Security Policy", "Refused to")


class CspWatchedBrowser:
    """A Playwright Browser whose every context reports CSP violations.

    Each context gets CSP_LISTENER and a console listener; what they report
    collects in ``csp_violations``, and the ``browser`` fixture fails the test
    when any is left at its end.
    """

    def __init__(self, browser):
        self._browser = browser
        self.csp_violations: list[str] = []

    def __getattr__(self, name):
        return getattr(self._browser, name)

    def new_context(self, **kwargs):
        context = self._browser.new_context(**kwargs)
        context.add_init_script(CSP_LISTENER)
        context.on("console", self._console)
        return context

    def new_page(self, **kwargs):
        return self.new_context(**kwargs).new_page()

    def _console(self, message) -> None:
        if any(m in message.text for m in CSP_MARKERS):
            url = (message.location or {}).get("url") or message.page.url
            self.csp_violations.append(f"{url}: {message.text}")


@pytest.fixture
def browser(monkeypatch):
    """Debian's Chromium driven by Playwright; missing is a failure, never a skip.

    Any Content-Security-Policy violation on any page fails the test.
    """
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package.")
    # Playwright's sync API keeps an event loop in this thread; the test's own
    # database calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        watched = CspWatchedBrowser(
            p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        )
        try:
            yield watched
        finally:
            watched.close()
            # Database work done while Playwright's loop runs gets connections
            # of that context; left open, they keep the test database from
            # being dropped.
            from django.db import connections

            connections.close_all()
    if watched.csp_violations:
        pytest.fail(
            "The pages violated the Content-Security-Policy:\n"
            + "\n".join(watched.csp_violations)
        )
