"""The rules of ledgerbridge's business, with no I/O and no framework.

Nothing here imports storage, HTTP or web code; `tests/test_architecture.py`
holds that line.
"""
