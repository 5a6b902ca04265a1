"""Online prediction: sandboxed serving workers (``pool``), the channel to them,
request checks (``inputs``) and the active-version cache (``versions``). The use cases are
in ``softquery.services.online`` and ``softquery.services.mlsql`` (``POST /model/predict``,
whose select is read by the one SQL grammar: ``softquery.sql.online_select``)."""
