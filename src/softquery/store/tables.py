"""SQLAlchemy Core tables of the metadata DB (the single source of truth)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

metadata = MetaData()

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("url", Text, nullable=False),  # masked: the password replaced by ***
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("url_encrypted", Text),  # the full URL (Fernet) when it has a password
)

models = Table(
    "models",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("source", String(63), nullable=False),
    Column("code", Text, nullable=False),
    Column("template", String(100)),
    Column("train_sql", Text, nullable=False),
    Column("predict_sql", Text, nullable=False),
    Column("label", String(63)),
    Column("id_columns", JSON),
    Column("output_table", String(63)),
    Column("write_mode", String(20), nullable=False),
    Column("deploy", String(20), nullable=False),
    Column("active_version", Integer),
    Column("next_version", Integer, nullable=False, default=1),
    Column("schedule", String(100)),
    Column("schedule_action", String(20)),
    Column("schedule_timezone", String(64)),
    Column("schedule_since", DateTime(timezone=True)),
    Column("time_limit_seconds", Integer),
    Column("memory_limit_mb", Integer),
    Column("cv_folds", Integer),
    Column("order_column", String(63)),
    Column("search", JSON),
    Column("time_budget_seconds", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # the user who created it (None: made from the CLI or before accounts; admins only)
    Column("owner_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
)

versions = Table(
    "versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(32)),
    Column("manifest", JSON, nullable=False),
    Column("signature", String(64), nullable=False),
    Column("artifact_sha256", String(64), nullable=False),
    Column("artifact_size", Integer, nullable=False),
    UniqueConstraint("model_id", "version", name="uq_versions_model_version"),
    UniqueConstraint("run_id", name="uq_versions_run"),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("version_id", Integer, ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("trigger", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("phase", String(100)),
    Column("progress", Float),
    Column("stdout", Text, nullable=False, default=""),
    Column("stderr", Text, nullable=False, default=""),
    Column("error_code", String(50)),
    Column("error_message", Text),
    Column("error_details", JSON),
    Column("result", JSON),
    Column("heartbeat_at", DateTime(timezone=True)),
    Column("stop_requested_at", DateTime(timezone=True)),
    Column("worker", String(200)),
    Column("scheduled_for", DateTime(timezone=True)),
)

schedule_fires = Table(
    "schedule_fires",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("slot_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(32)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("model_id", "slot_at", name="uq_schedule_fires_model_slot"),
)

executors = Table(
    "executors",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(63), nullable=False, unique=True),
    Column("password_hash", Text),  # argon2id; None until set through a one-time login link
    Column("role", String(10), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True)),
    Column("last_login_at", DateTime(timezone=True)),
)

login_links = Table(
    "login_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the link's secret
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie's secret
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("how", String(20)),  # password | link | password_change: a link session may reset the password
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("prefix", String(20), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the whole token
    Column("scope", String(10), nullable=False),
    Column("models", JSON),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
    # the token that created this one over the API: it never outlives or outlasts its parent
    Column("parent_id", Integer, ForeignKey("api_tokens.id", ondelete="CASCADE")),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(63), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(50), nullable=False),
    Column("target_type", String(20), nullable=False),
    Column("target", String(200), nullable=False),
    Column("details", JSON),
    Column("ip", String(64)),
)

output_tables = Table(
    "output_tables",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(63), nullable=False),
    Column("table_name", String(63), nullable=False),
    # None once the model is deleted: the table stays reserved for a model of the same name
    Column("model_id", Integer, ForeignKey("models.id", ondelete="SET NULL")),
    Column("model_name", String(63), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    # False: reserved when the model was saved (its default or chosen table); True once a batch
    # prediction of the model wrote it
    Column("written", Boolean, nullable=False, server_default=true()),
    UniqueConstraint("source", "table_name", name="uq_output_tables_source_table"),
)

# every script a user ran (SQL console, POST /api/v1/sql): shown to that user only
sql_history = Table(
    "sql_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("source", String(63)),
    Column("sql", Text, nullable=False),
    Column("statements", Integer, nullable=False),
    Column("error", Text),
    Column("seconds", Float, nullable=False),
)

# MLSQL's ``register ALG.`NAME` as fn``: fn calls the model in later SQL and in POST /model/predict
sql_functions = Table(
    "sql_functions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("model_name", String(63), nullable=False),
    Column("owner_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

Index("ix_runs_model_created", runs.c.model_id, runs.c.created_at)
Index("ix_runs_status", runs.c.status)
Index("ix_login_failures_at", login_failures.c.at)
Index("ix_audit_events_at", audit_events.c.at)
Index("ix_sql_history_user_at", sql_history.c.user_id, sql_history.c.at)
