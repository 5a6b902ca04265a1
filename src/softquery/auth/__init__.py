"""Who may do what: password hashing, bearer secrets, and the permission policy.

Pure functions only (no database): ``softquery.services.accounts`` and
``softquery.services.tokens`` store what these produce; ``softquery.http.route_policies``
asks ``policy.decide`` on every request.
"""
