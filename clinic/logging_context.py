"""Request and job ids on every log line, in plain or JSON logs.

``EMG_LOG_FORMAT=json`` writes one JSON object per line (python-json-logger),
for a log shipper; the default stays human-readable text. Either way
:class:`ContextFilter` (on the console handler, so it sees the records of
every logger) adds:

- ``request_id`` on the web: :class:`RequestIdMiddleware` takes the caller's
  ``X-Request-ID`` (a proxy's, so one id follows the request through every
  tier) or makes one, and returns it in the response header;
- ``job_kind`` and ``job_id`` in the workers, while a job runs:
  :func:`job_log_context` (entered by clinic.services.jobs around the
  claim and the work).

Both live in contextvars, so concurrent requests (threads) and jobs never
see each other's ids.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import uuid
from collections.abc import Iterator

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
job_var: contextvars.ContextVar[tuple[str, int] | None] = contextvars.ContextVar(
    "job", default=None
)

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept only if it is short and plain: it is written into every
# log line, and must not be able to forge lines or fill the disk.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class ContextFilter(logging.Filter):
    """Copies the current request and job ids onto each record (never drops)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        job = job_var.get()
        record.job_kind, record.job_id = job if job else (None, None)
        parts = []
        if record.request_id:
            parts.append(f"request_id={record.request_id}")
        if job:
            parts.append(f"job={job[0]}:{job[1]}")
        # For the plain format: empty when there is no context.
        record.log_context = f" [{' '.join(parts)}]" if parts else ""
        return True


class RequestIdMiddleware:
    """Sets the request id for the request's log lines and its response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        rid = given if _VALID_REQUEST_ID.match(given) else uuid.uuid4().hex
        request.request_id = rid
        # Not reset on the way out: Django logs 4xx/5xx responses ("Not Found:
        # ...") after the middleware returned; request_finished clears it.
        request_id_var.set(rid)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = rid
        return response


def request_id_clear(**_kwargs) -> None:
    """request_finished receiver (connected in ClinicConfig.ready)."""
    request_id_var.set(None)


@contextlib.contextmanager
def job_log_context(kind: str, pk: int) -> Iterator[None]:
    """Every log line inside the block carries ``job_kind`` and ``job_id``."""
    token = job_var.set((kind, pk))
    try:
        yield
    finally:
        job_var.reset(token)
