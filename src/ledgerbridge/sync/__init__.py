"""The sync engine: what ledgerbridge does with Exact Online, as use cases.

`runs` starts a run (the guards: flow switched on, terms accepted, one run
per company at a time); `export` previews or books a period's customer or
supplier invoices exactly once; `payments` imports what was paid. The use
cases do no I/O of their own: they talk to the database through `ports.Store`
and to Exact through `ports.ExactGateway`, which `adapters/` implement and
`wiring.py` builds.
"""
