"""The web's own wording of what services say: no CLI commands or flags, no error codes.

A service error's message is written for every entry point, so it may say how to fix
something on the command line ("Set it with --label", "See `softquery model list`").
The CLI and the API keep those texts; pages show them through ``plain()``, which turns
flags into the names of the settings and leaves out command-line hints, and name an
error by ``title_of(code)`` instead of its code."""

from __future__ import annotations

import re

from softquery.services.model_settings import MODEL_SETTINGS

# what a page calls each CLI flag of a model setting
FLAG_NAMES: dict[str, str] = {s.flag: s.label for s in MODEL_SETTINGS if s.flag} | {
    "--code-file": "your own code", "--no-schedule": "an empty schedule"}

CODE_TITLES: dict[str, str] = {
    "already_exists": "That name is taken",
    "artifact_tampered": "The saved version failed its integrity check",
    "cancelled": "Stopped",
    "conflict": "That clashes with something that exists",
    "csrf_failed": "The form expired",
    "data_error": "The rows cannot be used",
    "forbidden": "Not allowed",
    "http_error": "That did not work",
    "internal_error": "softquery hit an unexpected error",
    "interrupted_write": "A write to the data source was interrupted",
    "invalid_input": "Please check your input",
    "limit_exceeded": "The run hit a limit",
    "metadata_db_unavailable": "softquery's own database is not available",
    "model_code_error": "A problem in the model code",
    "model_load_failed": "The version could not be loaded",
    "no_version": "No trained version yet",
    "not_found": "Not found",
    "not_initialised": "softquery is not set up yet",
    "payload_too_large": "Too large",
    "prediction_failed": "Prediction did not work",
    "query_error": "The database refused the query",
    "queue_unavailable": "The job queue is not available",
    "schema_mismatch": "The columns do not match the trained version",
    "serving_worker_failed": "The serving worker stopped",
    "source_error": "The data source did not answer",
    "timeout": "The run took too long",
    "too_many_attempts": "Too many attempts",
    "training_failed": "Training did not work",
    "unauthenticated": "Please log in",
}

_COMMAND = r"`softquery\b[^`]*`"
_WITH_COMMAND = re.compile(r"\s*(?:,\s*)?(?:with|using|via|by running|run)\s+" + _COMMAND)  # "… with `softquery x`"
_COLON_COMMAND = re.compile(r":\s*" + _COMMAND + r"(?=\s*[.;]|\s*$)")  # "Train it first: `softquery train m`."
_PAREN_COMMAND = re.compile(r"\s*\([^()]*" + _COMMAND + r"[^()]*\)")  # "(create one with `softquery …`)"
_PAREN_FLAGS = re.compile(r"\s*\((?:--[a-z-]+(?: [A-Z]+)?(?:,? ?(?:or )?)?)+\)"  # "(--source NAME)"
                          r"|\s*\([^()]*on the command line\)")  # "(output_table; --output-table on the command line)"
_SENTENCES = re.compile(r"(?<=[.!?;])\s+(?=[A-Z(`])")
_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z-]*)\b")


def _flag(match: re.Match[str], text: str) -> str:
    name = FLAG_NAMES.get(match.group(1))
    if name is None:
        return match.group(1)
    before = " " + text[:match.start()].rstrip().lower()
    if name.startswith(("a ", "an ", "your ")) or before.endswith((" another", " a", " the", " your")):
        return name
    return f"the {name}"


def plain(message: str | None) -> str:
    """``message`` for a page: CLI commands left out, CLI flags named as settings."""
    if not message:
        return message or ""
    text = _PAREN_FLAGS.sub("", message)
    text = _PAREN_COMMAND.sub("", text)
    text = _COLON_COMMAND.sub("", text)
    text = _WITH_COMMAND.sub("", text)
    kept = [s for s in _SENTENCES.split(text) if not re.search(_COMMAND, s)]
    text = " ".join(kept).strip()
    text = _FLAG.sub(lambda m: _flag(m, text), text)
    return text or message


def title_of(code: str | None) -> str:
    """A short title for an error code ("A problem in the model code" for model_code_error)."""
    return CODE_TITLES.get(code or "", "That did not work")


def cause_of(code: str | None) -> str:
    """The title as the end of a sentence: "Failed: a problem in the model code."."""
    title = title_of(code)
    return title if title.startswith("softquery") else title[0].lower() + title[1:]
