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


def test_no_emgcore_module_imports_the_studies_or_matplotlib():
    # Study code imports emgcore, never the other way round; and the runtime
    # library draws no matplotlib figures (the studies do).
    code = (
        "import sys, pkgutil, importlib, emgcore;"
        "names = [m.name for m in pkgutil.walk_packages(emgcore.__path__, 'emgcore.')"
        " if not m.name.endswith('__main__')];"
        "[importlib.import_module(n) for n in names];"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('studies', 'matplotlib')];"
        "print(len(names), ','.join(bad)); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, f"emgcore imported: {proc.stdout} {proc.stderr}"
    assert int(proc.stdout.split()[0]) > 50  # every module was imported
