"""An unknown column's "Did you mean": never the very name; a column of another table says which."""

from __future__ import annotations

from softquery.services import sql_scripts
from softquery.services.context import ServiceContext


def test_a_column_of_a_table_the_query_does_not_read_names_that_table(
        ctx: ServiceContext, sqlite_source: str) -> None:
    script = sql_scripts.run_script(ctx, "select owner from houses", source="src")
    assert script.error is not None
    message = script.error["message"]
    assert "There is no column named 'owner' here." in message
    assert "There is a column owner in table owners, which this query does not read." in message
    assert "Did you mean" not in message and "suggestion" not in script.error["details"]


def test_a_misspelt_column_still_gets_the_nearest_name(ctx: ServiceContext, sqlite_source: str) -> None:
    script = sql_scripts.run_script(ctx, "select pricee from houses", source="src")
    assert script.error is not None
    assert "Did you mean column 'price'?" in script.error["message"]
    assert "which this query does not read" not in script.error["message"]
