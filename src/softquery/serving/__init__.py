"""Online prediction: sandboxed serving workers (``pool``), the channel to them,
request checks (``inputs``), the active-version cache (``versions``) and the
MLSQL select parser (``mlsql``). The use cases are in ``softquery.services.online``."""
