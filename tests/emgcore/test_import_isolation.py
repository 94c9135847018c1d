from __future__ import annotations

import subprocess
import sys


def test_importing_emgcore_loads_neither_django_nor_celery():
    code = (
        "import sys, emgcore, emgcore.cli;"
        "import emgcore.io, emgcore.preprocess, emgcore.quality;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'celery', 'clinic')];"
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, f"emgcore imported: {proc.stdout} {proc.stderr}"
