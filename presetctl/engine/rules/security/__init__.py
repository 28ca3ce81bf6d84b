"""The security rules (codes ``X...``): one module per kind of hostile content.

The scanning machinery they share lives in ``presetctl.engine.security``: ``content.py``
extracts a document's texts and decoded payloads once per file, ``unpack.py`` inflates
archives and encodings within the limits, ``scope.py`` and ``ratings.py`` say what
``scan-security`` reports and how the file-level codes are rated. ``base.py`` here builds a
security rule around a check (shared scan state, deduplication, a cap, limit hits).
"""
