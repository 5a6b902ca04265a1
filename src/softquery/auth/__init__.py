"""Who may do what: password hashing, bearer secrets, and the permission policy.

Pure functions only (no database): ``softquery.services.accounts`` and
``softquery.services.tokens`` store what these produce; ``softquery.api.security``
asks ``policy.decide`` on every request.
"""
