"""A model's settings as people see them: one row per setting, read by every presenter.

The CLI (``cli/models_cmd.py`` options, ``cli/present.py`` output), the API
(``api/schemas/models.py`` descriptions and ``ModelPublic``) and the web editor
(``web/forms.py``) take from ``MODEL_SETTINGS`` what they show the same way: a
setting's name (the ``Model`` attribute, the ``ModelSpec`` field, the API and
``--json`` key), what people call it, one sentence of help with what an unset
value means, its CLI flag, and how it is shown as text and read back from text
(its ``kind``). Checking a value stays in ``services/models.py``; laying the
editor out stays in ``web/templates/editor.html``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from softquery.domain import DeployStrategy, Model, RunKind, WriteMode
from softquery.errors import InvalidInputError
from softquery.services.model_selection import search_text
from softquery.services.models import CLEARABLE
from softquery.training.automl import DEFAULT_BUDGET_SECONDS
from softquery.training.search import TIME_LIMIT_SHARE

# How a setting is shown as text and read back from text:
#   text   free text, kept as typed (description)
#   sql    a query: free text, printed as a block (train_sql, predict_sql)
#   code   Python source, printed as a block
#   name   one optional name; "" means not set (template, label, output_table, time zone)
#   names  a list of names, comma-separated in text (id_columns)
#   choice one of ``choices`` (or of the sources, for ``source``); "" means not given
#   limit  a whole number above 0 with a unit; "" means the server's default
#   number a whole number (checked by the service); "" means the default (cv_folds)
#   cron   a schedule expression (the editor splits it into a preset and an expression)
#   search a hyperparameter search (a JSON object; the CLI has --search/--param/--trials/--objective, the editor
#          a row per template parameter), shown as one line ("grid over alpha=0.1,1,10")
Kind = Literal["text", "sql", "code", "name", "names", "choice", "limit", "number", "cron", "search"]


@dataclass(frozen=True)
class ModelSetting:
    name: str
    label: str                        # what people call it: error summaries, limit messages
    help: str                         # one sentence, no final full stop: CLI --help and API docs
    kind: Kind = "name"
    unset: str | None = None          # what happens when it is not set ("the server's", "UTC")
    choices: tuple[str, ...] = ()
    flag: str | None = None           # the CLI option (None: no plain CLI option, e.g. --code-file)
    metavar: str | None = None
    unit: str | None = None           # for limits: "seconds", "MB"
    default_text: str = ""            # the editor's text when the model has no value
    aliases: tuple[str, ...] = ()     # other names services give it in an error's details["field"]

    @property
    def clearable(self) -> bool:
        """Null (API), "" (editor) or --no-… (CLI) resets it to automatic/default."""
        return self.name in CLEARABLE

    @property
    def block(self) -> bool:
        """Printed on lines of its own (queries, code)."""
        return self.kind in ("sql", "code")

    @property
    def what(self) -> str:
        """The label with its unit: "time limit (seconds)"."""
        return f"{self.label} ({self.unit})" if self.unit else self.label

    def cli_help(self) -> str:
        listed = ", comma-separated" if self.kind == "names" else ""
        return f"{self.help}{listed}" + (f" (default: {self.unset})." if self.unset else ".")

    def api_help(self) -> str:
        if self.unset is None:
            return f"{self.help}."
        return f"{self.help}; null: {self.unset}." if self.clearable else f"{self.help} (default: {self.unset})."

    # -- values -----------------------------------------------------------------------
    def value(self, model: Model) -> Any:
        """The model's value as JSON shows it (an enum as its value)."""
        value = getattr(model, self.name)
        return value.value if isinstance(value, Enum) else value

    def as_text(self, model: Model) -> str:
        """The model's value as the editor shows it ("" for not set)."""
        value = self.value(model)
        if value is None:
            return self.default_text
        if self.kind == "names":
            return ", ".join(value)
        if self.kind == "search":
            return search_text(value)
        return str(value)

    def parse(self, text: str) -> Any:
        """What the editor's ``text`` sets (None: not set)."""
        if self.kind in ("text", "sql", "code"):
            return text
        if self.kind == "choice":
            return text or None
        if self.kind == "names":
            return names_of(text) or None
        if self.kind in ("limit", "number"):
            return self._whole_number(text)
        return text.strip() or None

    def _whole_number(self, text: str) -> int | None:
        stripped = text.strip()
        if not stripped:
            return None
        try:
            return int(stripped)
        except ValueError:
            above = " above 0" if self.kind == "limit" else ""
            raise InvalidInputError(f"The {self.what} must be a whole number{above}; got {stripped!r}.",
                                    details={"field": self.name, "value": stripped}) from None


def names_of(text: str) -> list[str]:
    """Comma-separated names as a list: "id, customer_id" -> ["id", "customer_id"]."""
    return [name.strip() for name in text.split(",") if name.strip()]


def _values(enum: type[Enum]) -> tuple[str, ...]:
    return tuple(str(e.value) for e in enum)


# In the order the CLI lists its options and shows a model.
MODEL_SETTINGS: tuple[ModelSetting, ...] = (
    ModelSetting("source", "data source", "Data source name", kind="choice", flag="--source",
                 aliases=("source name",)),
    ModelSetting("template", "template", "Start from this template's code (see `softquery templates` and "
                 "/api/v1/templates); not with code", flag="--template"),
    ModelSetting("code", "model code", "Python source with `class Model` (train(self, X, y), predict(self, X))",
                 kind="code", aliases=("problems",)),
    ModelSetting("train_sql", "train query", "SELECT returning the training rows, label included", kind="sql",
                 flag="--train-sql"),
    ModelSetting("predict_sql", "predict query", "SELECT returning the rows to predict", kind="sql",
                 flag="--predict-sql"),
    ModelSetting("label", "label column", "Label column", unset="the train column the predict query lacks",
                 flag="--label"),
    ModelSetting("id_columns", "id columns", "Id columns copied to the output", kind="names",
                 unset="id and *_id columns", flag="--id-columns", aliases=("id column",)),
    ModelSetting("output_table", "output table", "Table for predictions", unset="<name>_prediction",
                 flag="--output-table"),
    ModelSetting("write_mode", "write mode", "Replace the output table, or append rows to it", kind="choice",
                 choices=_values(WriteMode), flag="--write-mode", default_text=WriteMode.REPLACE.value),
    ModelSetting("deploy", "deploy strategy", "Activate every new version (most_recent), or (best_score) not one "
                 "whose cross-validated key metric (r2, f1, silhouette) has a mean below the active version's "
                 "by more than one standard deviation of the new version's folds (the holdout key metric, "
                 "which must be higher, when either has no cross-validation)",
                 kind="choice", choices=_values(DeployStrategy), flag="--deploy",
                 default_text=DeployStrategy.MOST_RECENT.value),
    ModelSetting("description", "description", "What this model is for", kind="text", flag="--description"),
    ModelSetting("schedule", "schedule", "Run the model on a schedule: a 5-field cron expression "
                 "('30 6 * * 1-5') or hourly, daily, weekly (Monday 00:00)", kind="cron", unset="no schedule",
                 flag="--schedule", metavar="CRON|hourly|daily|weekly"),
    ModelSetting("schedule_action", "scheduled action", "What the schedule runs", kind="choice",
                 choices=_values(RunKind), unset=RunKind.TRAIN.value, flag="--schedule-action",
                 default_text=RunKind.TRAIN.value),
    ModelSetting("schedule_timezone", "time zone", "IANA time zone the schedule is read in, e.g. Europe/Berlin",
                 unset="UTC", flag="--schedule-timezone", metavar="ZONE"),
    ModelSetting("time_limit_seconds", "time limit", "Wall-time limit of each run of this model", kind="limit",
                 unset="the server's limit", unit="seconds", flag="--time-limit", metavar="SECONDS"),
    ModelSetting("memory_limit_mb", "memory limit", "Memory limit of each run of this model", kind="limit",
                 unset="the server's limit", unit="MB", flag="--memory-limit", metavar="MB"),
    ModelSetting("cv_folds", "cross-validation folds", "Folds of the k-fold cross-validation each training "
                 "records, 2 to 20 (stratified for classification; fewer when the rows are few)", kind="number",
                 unset="the server's SOFTQUERY_CV_FOLDS, 5 unless set", flag="--cv-folds", metavar="N"),
    ModelSetting("order_column", "order column", "Train column the rows are ordered by (a date, a time): "
                 "cross-validation then trains on earlier rows and measures on later ones",
                 unset="shuffled folds", flag="--order-column", metavar="COL"),
    ModelSetting("search", "hyperparameter search", "Search the template's parameters and keep the best "
                 "configuration by cross-validation: method grid, random or bayes (--search), the parameters "
                 "(--param NAME=V1,V2 or NAME=LOW:HIGH[:log], repeatable), at most N trials (--trials N) and the "
                 "cross-validation metric it chooses by (--objective METRIC, e.g. r2, rmse, f1)",
                 kind="search", unset="no search: the code as written", flag=None,
                 aliases=("param", "trials", "objective")),
    ModelSetting("time_budget_seconds", "time budget", "Stop starting new search trials (AutoML: new candidate "
                 "templates) after this long",
                 kind="limit", unset=f"AutoML {DEFAULT_BUDGET_SECONDS} s; a search stops starting trials at "
                 f"{TIME_LIMIT_SHARE:.0%} of the run's time limit", unit="seconds", flag="--time-budget",
                 metavar="SECONDS"),
)

SETTINGS: dict[str, ModelSetting] = {s.name: s for s in MODEL_SETTINGS}


def setting_values(model: Model) -> dict[str, Any]:
    """Every setting's value as JSON shows it, in ``MODEL_SETTINGS`` order."""
    return {s.name: s.value(model) for s in MODEL_SETTINGS}


# The setting an error's details["field"] names (by its name, its label or an alias) -> its name.
FIELD_NAMES: dict[str, str] = {key: s.name for s in MODEL_SETTINGS for key in (s.name, s.label, *s.aliases)}
