"""Work that runs without anyone asking: the daily exports and imports.

* `daily.py` decides which daily runs are due, from the companies' settings,
  their time zones and the runs already claimed; no I/O.
* `scheduler.py` is the embedded scheduler of `ledgerbridge serve`: a tick a
  minute that claims the due runs in the database (so two processes never
  both run one) and carries them out on a few threads through the `Runner`.
"""
