"""Exceptions raised by emgcore.

Every message is written for the person who has to act on it: it names the
file or value that is wrong and the limit it broke.
"""

from __future__ import annotations


class EmgCoreError(Exception):
    """Base class for every error emgcore raises on purpose."""


class InvalidRecordingError(EmgCoreError, ValueError):
    """A recording cannot be read or is not usable (format, size, content)."""


class IncompatibleCheckpointError(EmgCoreError):
    """A checkpoint does not fit this version of emgcore or the model registry."""


class DataNotFoundError(EmgCoreError, FileNotFoundError):
    """A dataset or file that emgcore was asked to load is not where it should be."""


class InvalidOptionError(EmgCoreError, ValueError):
    """An option of an experiment or command cannot be used as given."""
