"""``python -m emgcore gesture``: pretrain, adapt and predict with gesture recognisers.

Sub-commands: ``pretrain`` (source checkpoint + model card), ``adapt`` (one
person's calibration files -> adapted checkpoint with before/after accuracy)
and ``predict`` (window classes as JSON). The adaptation experiments are study
code: ``python -m studies gesture experiment``.

One sub-command split by action; :func:`add_parser` (what emgcore.cli
calls) and the option helpers the study command shares are re-exported here:
:mod:`.parser`, :mod:`.options`, :mod:`.checkpoints`.
"""

from __future__ import annotations

from emgcore.commands.gesture.options import (
    adapt_options,
    command_line,
    dataset_spec,
    gain_augment,
    pretrain_config,
    set_threads,
)
from emgcore.commands.gesture.parser import (
    add_augment_args,
    add_common_args,
    add_data_args,
    add_parser,
)

__all__ = [
    "adapt_options",
    "add_augment_args",
    "add_common_args",
    "add_data_args",
    "add_parser",
    "command_line",
    "dataset_spec",
    "gain_augment",
    "pretrain_config",
    "set_threads",
]
