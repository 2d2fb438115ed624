"""The watchlist: saved searches re-run against every new release, alerting once per row.

``model`` (what a watch and an alert are), ``store`` (watches in ``<home>/watch``, alerts
and the scan ledger in SQLite), ``finder`` (the existing search services, restricted to
the new rows), ``runner`` (which rows are new, per watch and release), ``notify``
(e-mail and webhook). See docs/watch.md.
"""
