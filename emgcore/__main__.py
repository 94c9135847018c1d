"""``python -m emgcore``: see :mod:`emgcore.cli`."""

from __future__ import annotations

import sys

from emgcore.cli import main

sys.exit(main())
