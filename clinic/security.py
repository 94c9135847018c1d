"""Abuse resistance that plugs into Django and DRF: client addresses, API
throttles with a plain 429, and idle-session expiry (docs/SECURITY.md).

The login lockout is django-axes (settings); its audit entries are in
clinic/signals.py, the unlock service in clinic/services/users.py and the
upload quota in clinic/services/quota.py.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from rest_framework.exceptions import Throttled
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

# Status polls of open pages: fetched by script, not by a person, so they do
# not keep an idle session alive (url names, namespaced where they are).
POLL_URL_NAMES = frozenset(
    {"job_status", "retraining_status", "gestures:session_status"}
)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: behind the TLS proxy (BEHIND_TLS_PROXY), the one
    that proxy appended last to X-Forwarded-For; otherwise REMOTE_ADDR.

    Earlier X-Forwarded-For entries come from the client and prove nothing.
    """
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1][:45]
    return request.META.get("REMOTE_ADDR")


class IdleSessionMiddleware:
    """Saves the session (and so moves its expiry SESSION_COOKIE_AGE ahead) on
    every signed-in request except status polls: "idle" means no person used
    the page, even if a script on it still asks for progress."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        match = getattr(request, "resolver_match", None)
        if (
            user is not None
            and user.is_authenticated
            and not (match is not None and match.view_name in POLL_URL_NAMES)
        ):
            request.session.modified = True
        return response


# --- API throttles ---------------------------------------------------------------
_PERIODS = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}


class _ExplainedThrottle:
    """Remembers on the request which limit refused it, for the 429 message.

    Rates are read from the settings on every request (DRF reads them once at
    import), so ``override_settings`` and env changes both take effect.
    """

    #: what one counted request is, in the message ("requests", "uploads")
    unit = "requests"
    #: who the limit applies to, in the message
    who = "this account"

    def get_rate(self):
        from rest_framework.settings import api_settings

        rates = api_settings.DEFAULT_THROTTLE_RATES
        if self.scope not in rates:
            raise ImproperlyConfigured(
                f"No throttle rate set for scope {self.scope!r}."
            )
        return rates[self.scope]

    def allow_request(self, request, view) -> bool:
        if super().allow_request(request, view):
            return True
        refused = getattr(request, "throttle_refusals", [])
        request.throttle_refusals = [*refused, self]
        return False

    def describe(self) -> str:
        count, seconds = self.parse_rate(self.rate)
        period = _PERIODS.get(seconds, f"{seconds} seconds")
        return f"{count} {self.unit} per {period} from {self.who}"


class AnonThrottle(_ExplainedThrottle, AnonRateThrottle):
    who = "one address without signing in"


class UserThrottle(_ExplainedThrottle, UserRateThrottle):
    pass


class UploadThrottle(_ExplainedThrottle, UserRateThrottle):
    """Upload POSTs only (a GET on the same URL lists sessions, not counted)."""

    scope = "uploads"
    unit = "uploads"

    def allow_request(self, request, view) -> bool:
        if request.method != "POST":
            return True
        return super().allow_request(request, view)


UPLOAD_THROTTLES = [AnonThrottle, UserThrottle, UploadThrottle]


def throttled_message(wait: float | None, limits: list[str]) -> str:
    what = "; ".join(limits) if limits else "the request rate limit"
    retry = (
        f"Wait {max(1, math.ceil(wait))} seconds, then try again."
        if wait is not None
        else "Wait a little, then try again."
    )
    return f"Too many requests: the limit is {what}. {retry}"


def api_exception_handler(exc, context):
    """DRF's handler, with a 429 that says which limit and how long to wait."""
    # Imported here: rest_framework.views reads the throttle classes named in
    # the settings (this module) when it is first imported.
    from rest_framework.views import exception_handler

    response = exception_handler(exc, context)
    if isinstance(exc, Throttled) and response is not None:
        request = context.get("request")
        refusals = getattr(request, "throttle_refusals", [])
        wait = None if exc.wait is None else float(exc.wait)
        response.data = {
            "detail": throttled_message(wait, [t.describe() for t in refusals]),
            "retry_after_s": None if wait is None else max(1, math.ceil(wait)),
        }
    return response
