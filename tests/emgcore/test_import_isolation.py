from __future__ import annotations

import subprocess
import sys


def _loaded_after(imports: str, banned: tuple[str, ...]) -> list[str]:
    """The modules of ``banned`` packages that a fresh interpreter has loaded
    after running ``imports`` (Python statements)."""
    code = (
        f"import sys; {imports};"
        f"print(','.join(m for m in sys.modules if m.split('.')[0] in {banned!r}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return [m for m in proc.stdout.strip().split(",") if m]


def test_importing_emgcore_loads_neither_django_nor_celery():
    imports = (
        "import emgcore, emgcore.cli;"
        "import emgcore.io, emgcore.preprocess, emgcore.quality"
    )
    assert _loaded_after(imports, ("django", "celery", "clinic")) == []


def test_no_emgcore_module_imports_the_studies_or_matplotlib():
    # Study code imports emgcore, never the other way round; and the runtime
    # library draws no matplotlib figures (the studies do).
    imports = (
        "import pkgutil, importlib, emgcore;"
        "names = [m.name for m in pkgutil.walk_packages(emgcore.__path__, 'emgcore.')"
        " if not m.name.endswith('__main__')];"
        "assert len(names) > 50, names;"  # every module, not a few
        "[importlib.import_module(n) for n in names]"
    )
    assert _loaded_after(imports, ("studies", "matplotlib")) == []


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
