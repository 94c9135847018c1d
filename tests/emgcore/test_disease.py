"""The disease model's training budget (its protocols: tests/studies/)."""

from __future__ import annotations

from emgcore.disease import Budget


def test_a_budget_knows_the_cli_name_that_reproduces_it():
    import dataclasses

    assert Budget().cli_name() == "paper"
    assert Budget.cpu().cli_name() == "cpu"
    assert dataclasses.replace(Budget(), finetune_epochs=3).cli_name() is None
