"""Evidence: signed match reports, request letters and licence audits.

Everything here is built from ``Match`` objects (or their JSON) and catalog manifests, so
a report can be re-derived from the same search and checked by anyone holding the public
key (``traindex keys show``).
"""
