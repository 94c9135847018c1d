"""``python -m studies``: see :mod:`studies.cli`."""

from __future__ import annotations

import sys

from studies.cli import main

sys.exit(main())
