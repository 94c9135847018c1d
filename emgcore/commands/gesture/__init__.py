"""``python -m emgcore gesture``: pretrain, adapt and evaluate gesture recognisers.

Sub-commands: ``experiment`` (inter-subject adaptation curves, JSON + PNG),
``pretrain`` (source checkpoint + model card), ``adapt`` (one person's
calibration files -> adapted checkpoint with before/after accuracy) and
``predict`` (window classes as JSON).

One sub-command split by action; :func:`add_parser` (what emgcore.cli
calls) and the option helpers the tests use are re-exported here:
:mod:`.parser`, :mod:`.options`, :mod:`.experiment`, :mod:`.checkpoints`.
"""

from __future__ import annotations

from emgcore.commands.gesture.options import (
    _adapt_options,
    _augment,
    _command_line,
    _spec,
)
from emgcore.commands.gesture.parser import (
    add_parser,
)

__all__ = [
    "_adapt_options",
    "_augment",
    "_command_line",
    "_spec",
    "add_parser",
]
