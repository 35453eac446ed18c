"""The Exact Online sandbox: a local simulator of the Exact Online API.

It imports nothing of ledgerbridge, so it cannot inherit the client's
mistakes; `../shared/exact-online/API.md` is its reference.
"""
