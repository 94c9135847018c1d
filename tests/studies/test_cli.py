"""``python -m studies``: the experiment commands, apart from ``python -m emgcore``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from emgcore.cli import build_parser as emgcore_parser
from studies.cli import build_parser


def test_python_m_studies_lists_the_experiment_commands():
    proc = subprocess.run(
        [sys.executable, "-m", "studies", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "evaluate" in proc.stdout and "gesture" in proc.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["evaluate", "protocol", "--protocol", "n2001_loso"],
        ["evaluate", "summary"],
        ["evaluate", "best-source"],
        ["evaluate", "embedding", "--model", "m.pt", "--out", "x"],
        ["gesture", "experiment", "--dataset", "myo-readings"],
    ],
)
def test_the_experiments_moved_from_emgcore_to_studies(argv, capsys):
    assert build_parser().parse_args(argv).func
    with pytest.raises(SystemExit):  # argparse: invalid choice
        emgcore_parser().parse_args(argv)
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["evaluate", "checkpoint", "--model", "m.pt"],
        ["gesture", "pretrain", "--dataset", "myo-readings", "--out", "m.pt"],
        ["gesture", "adapt", "--model", "m.pt", "--trials", "t.csv", "--out", "a.pt"],
        ["gesture", "predict", "--model", "m.pt", "t.csv"],
    ],
)
def test_the_user_commands_stay_in_emgcore(argv):
    assert emgcore_parser().parse_args(argv).func
