"""softquery's SQL language: one grammar for BigQuery ML and MLSQL statements.

This package only reads text: it splits a script into statements, parses each into a
typed statement (``statements.py``) and explains syntax errors with their line, column
and a caret. It runs nothing and imports nothing above ``softquery.errors``; the use
cases that execute statements live in ``softquery.services`` (``sql_scripts.py`` and the
modules it dispatches to).
"""
