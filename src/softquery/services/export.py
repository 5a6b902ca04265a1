"""Use case: export a linear model's coefficients and preprocessing as JSON."""

from __future__ import annotations

from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from softquery.artifacts import serialize
from softquery.artifacts.export_json import export_linear_model
from softquery.artifacts.signing import verify
from softquery.domain import Version
from softquery.errors import LimitExceededError, SoftqueryError
from softquery.services.context import ServiceContext
from softquery.services.versions import get_version, load_version

EXPORT_SECONDS = 120.0
# the templates whose estimator is one the JSON export describes (export_json.LINEAR_ESTIMATORS)
JSON_TEMPLATES = ("linear_regression", "ridge_regression", "logistic_regression")


def version_template(manifest: dict[str, Any]) -> str | None:
    """The template a version really runs: AutoML's choice for an ``auto*`` model (``selection``),
    else the manifest's template; None for the user's own code."""
    selection = manifest.get("selection") or {}
    if isinstance(selection, dict) and selection.get("kind") == "auto" and selection.get("chosen"):
        return str(selection["chosen"])
    return str(manifest["template"]) if manifest.get("template") else None


def json_export_note(manifest: dict[str, Any]) -> str | None:
    """Why a version cannot be exported as JSON, in the export's own words (None: it can, or
    its own code may keep a linear model, which the export then checks)."""
    template = version_template(manifest)
    if template is None or template in JSON_TEMPLATES:
        return None
    return ("JSON export is only available for linear models (linear, ridge or logistic regression); "
            f"this version uses the {template.replace('_', ' ')} template, whose trees, neighbours, clusters "
            "or kernels do not reduce to coefficients.")


def _document(model: str, found: Version, exported: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": model,
        "version": found.version,
        "created_at": found.created_at.isoformat(),
        "label": found.manifest["data"].get("label"),
        "classes": found.manifest.get("classes"),
        "code_sha256": found.manifest.get("code_sha256"),
        "data_fingerprint": found.manifest["data"].get("fingerprint"),
        **exported,
    }


def export_json(ctx: ServiceContext, model: str, version: int | None = None) -> dict[str, Any]:
    """Unpickles in this process: for the CLI (the analyst's own process), not for servers."""
    found = get_version(ctx, model, version)
    return _document(model, found, export_linear_model(load_version(ctx, found)))


def _export_child(conn: Connection, payload: tuple[bytes, str]) -> None:
    """Job-child side: unpickle the (already verified) artifact and describe the linear model."""
    from softquery.sandbox import protocol

    artifact, code = payload
    try:
        protocol.send(conn, ("result", export_linear_model(serialize.loads(artifact, code))))
    except SoftqueryError as exc:
        protocol.send(conn, ("error", exc.to_dict()))
    except Exception as exc:  # noqa: BLE001 - reported to the parent in words
        protocol.send(conn, ("error", {"code": "export_failed", "details": {},
                                       "message": f"The export failed ({type(exc).__name__}: {exc})."}))


def export_json_isolated(ctx: ServiceContext, model: str, version: int | None = None) -> dict[str, Any]:
    """``export_json`` for the API/web process: the signature is checked here and the
    unpickling (which runs model code) happens in a sandboxed job child with limits."""
    found = get_version(ctx, model, version)
    artifact = verified_artifact(ctx, found)
    exported = run_in_child(ctx, _export_child, (artifact, str(found.manifest["code"])),
                            name=f"export-{model}-{found.version}")
    return _document(model, found, exported)


def verified_artifact(ctx: ServiceContext, found: Version) -> bytes:
    """The version's artifact bytes, after its signature check (nothing is unpickled)."""
    artifact = ctx.versions.artifact(found.model, found.version)
    verify(ctx.secret_key(), found.manifest, artifact, found.signature,
           label=f"Version {found.version} of model {found.model!r}")
    return artifact


def run_in_child(ctx: ServiceContext, target: Callable[[Connection, Any], None], payload: Any, *,
                 name: str, seconds: float = EXPORT_SECONDS) -> Any:
    """Run ``target`` in a sandboxed child (time and memory limits, isolation) and return
    what it sent as ("result", x); its ("error", dict) is raised as the matching error."""
    from softquery.sandbox import Limits, Sandbox
    from softquery.services.sandbox_policy import isolation_of

    s = ctx.settings
    limits = Limits(wall_seconds=seconds, memory_mb=s.memory_limit_mb,
                    max_processes=s.max_processes, max_file_mb=s.max_file_mb, isolation=isolation_of(ctx))
    sandbox = Sandbox.start(target, payload, limits=limits, name=name)
    outcome: tuple[str, Any] | None = None
    info = None
    try:
        while (message := sandbox.next_reply()) is not None:
            if isinstance(message, tuple) and len(message) >= 2 and message[0] in ("result", "error"):
                outcome = (message[0], message[1])
                break
        else:
            info = sandbox.wait()
    finally:
        sandbox.close()
    if outcome is None:
        reason = info.message if info is not None else "the process ended without a result"
        raise LimitExceededError(f"The export did not finish: {reason}",
                                 code=info.status if info is not None else None)
    if outcome[0] == "error":
        raise _rebuilt(outcome[1] if isinstance(outcome[1], dict) else {"message": str(outcome[1])})
    return outcome[1]


def _rebuilt(error: dict[str, Any]) -> SoftqueryError:
    """The child's error as the matching class, so it keeps its HTTP status."""
    code = str(error.get("code"))
    pending: list[type[SoftqueryError]] = [SoftqueryError]
    cls: type[SoftqueryError] = SoftqueryError
    while pending:
        candidate = pending.pop()
        if candidate.code == code:
            cls = candidate
            break
        pending.extend(candidate.__subclasses__())
    return cls(str(error.get("message")), code=code, details=dict(error.get("details") or {}))
