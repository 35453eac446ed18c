"""The sync engine's ports (`sync/ports.py`) implemented on our storage and
on the Exact client."""
