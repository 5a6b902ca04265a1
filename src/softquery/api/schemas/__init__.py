"""Request and response schemas (pydantic), one module per resource.

Families follow the FastAPI full-stack template: ``XCreate`` (request body of
a create), ``XUpdate`` (PATCH body: only the given fields change) and
``XPublic`` (what the API returns).
"""

from softquery.api.schemas.runs import (
    RunCreate,
    RunError,
    RunLogs,
    RunPublic,
    RunStopped,
    RunSummary,
)

__all__ = ["RunCreate", "RunError", "RunLogs", "RunPublic", "RunStopped", "RunSummary"]
