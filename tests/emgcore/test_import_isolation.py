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


def test_emgcore_imports_no_study_code():
    """The runtime library stands alone: studies import emgcore, never back."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "emgcore"
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found += [
                f"{path.relative_to(root.parent)}:{node.lineno} {name}"
                for name in names
                if name.split(".")[0] == "studies"
            ]
    assert not found, "emgcore imports studies:\n" + "\n".join(found)
    code = (
        "import sys, emgcore.cli, emgcore.retrain, emgcore.inference;"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'studies'];"
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, f"emgcore imported: {proc.stdout} {proc.stderr}"
