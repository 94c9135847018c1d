"""Every malformed file is refused in plain language by the reader and by
``python -m emgcore predict``; the valid controls are read.

The corpus is built into ``tmp_path`` by tests/emgcore/malformed_corpus.py.
The API side is tests/clinic/test_api_malformed_corpus.py.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys

import pytest

from emgcore.cli import main
from emgcore.errors import EmgCoreError
from emgcore.io import read_recording
from tests.conftest import REPO_ROOT
from tests.emgcore.malformed_corpus import PYTHON_INTERNALS, Case, all_cases

CASES = all_cases()
IDS = [c.name for c in CASES]


def assert_plain(message: str, case: Case) -> None:
    """No Python-internal text, and (for refusals) the field named."""
    leaked = [t for t in PYTHON_INTERNALS if t.lower() in message.lower()]
    assert not leaked, f"{case.name}: Python text {leaked} in: {message}"
    if case.refuse and case.says:
        assert re.search(case.says, message), (
            f"{case.name}: the message does not say {case.says!r}: {message}"
        )


def test_the_corpus_is_large_and_covers_every_format():
    refused = [c for c in CASES if c.refuse]
    assert len(refused) >= 50
    assert len({c.name for c in CASES}) == len(CASES)
    prefixes = {c.name.split("_")[0] for c in refused}
    assert prefixes == {"wfdb", "zip", "edf", "bdf", "csv"}
    assert all(c.says for c in refused), "each refusal names what it must say"
    # Both WFDB data-file suffixes are covered.
    assert {"wfdb_bin_truncated", "wfdb_valid_bin_with_offset"} <= set(IDS)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_read_recording_refuses_in_plain_language(case, tmp_path):
    paths = case.build(tmp_path)
    target = paths if len(paths) > 1 else paths[0]
    if not case.refuse:
        rec = read_recording(target, sfreq=case.sfreq)
        assert rec.n_times > 0 and math.isfinite(rec.sfreq)
        assert all(u != "a.u." for u in rec.units), "the controls state their units"
        return
    # Anything but an emgcore error (ValueError, IndexError, ...) fails here.
    with pytest.raises(EmgCoreError) as info:
        read_recording(target, sfreq=case.sfreq)
    assert_plain(str(info.value), case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_predict_refuses_in_plain_language(case, tmp_path, capsys, tiny_checkpoint):
    paths = case.build(tmp_path)
    argv = ["predict", *map(str, paths), "--model", str(tiny_checkpoint)]
    if case.sfreq is not None:
        argv += ["--sfreq", str(case.sfreq)]
    rc = main(argv)
    out, err = capsys.readouterr()
    if case.refuse:
        assert rc == 2, f"{case.name} was accepted by predict: {out}"
        assert out == ""
        assert len(err.strip().splitlines()) == 1
        assert_plain(err, case)
    else:
        # A valid file may still be judged not analysable later; never with
        # Python text.
        assert rc in (0, 2), err
        assert_plain(out + err, case)


@pytest.mark.parametrize(
    "name", ["wfdb_negative_rate", "edf_zero_record_duration", "csv_text_cell"]
)
def test_predict_in_a_real_process_prints_one_plain_line(
    name, tmp_path, tiny_checkpoint
):
    case = next(c for c in CASES if c.name == name)
    paths = case.build(tmp_path)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emgcore",
            "predict",
            *map(str, paths),
            "--model",
            str(tiny_checkpoint),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("emgcore predict: ")
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert_plain(proc.stderr, case)


def test_the_header_sampling_rate_is_never_replaced_by_a_default(tmp_path):
    # Issue 14: "rec 1 -4000 8000" was read as wfdb's 250 Hz default.
    case = next(c for c in CASES if c.name == "wfdb_negative_rate")
    with pytest.raises(EmgCoreError) as info:
        read_recording(case.build(tmp_path))
    message = str(info.value)
    assert "-4000" in message and "250" not in message


def test_units_are_carried_as_written(tmp_path):
    by_name = {c.name: c for c in CASES}
    for name, unit in [
        ("wfdb_valid", "mV"),
        ("wfdb_latin1_micro_volts", "uV"),  # wfdb alone reads "V"
        ("wfdb_valid_bin_with_offset", "uV"),
        ("edf_micro_volt_latin1", "uV"),  # edfio alone reads "\ufffdV"
        ("bdf_valid", "uV"),
        ("csv_valid_time_column", "mV"),
    ]:
        folder = tmp_path / name
        folder.mkdir()
        paths = by_name[name].build(folder)
        rec = read_recording(paths if len(paths) > 1 else paths[0])
        assert rec.units == (unit,), name
