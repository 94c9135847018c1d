"""One module per ``python -m emgcore`` sub-command (see emgcore.cli)."""
