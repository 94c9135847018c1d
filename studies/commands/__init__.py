"""The sub-commands of ``python -m studies``, one module each (found automatically)."""
