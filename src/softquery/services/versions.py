"""Use cases for trained versions: list, show, activate, load (verified)."""

from __future__ import annotations

from typing import Any

from softquery.artifacts import serialize
from softquery.artifacts.signing import verify
from softquery.domain import Version
from softquery.errors import NoVersionError
from softquery.services import audit
from softquery.services.context import ServiceContext
from softquery.services.numbers import check_number


def list_versions(ctx: ServiceContext, model: str) -> list[Version]:
    return ctx.versions.list(model)


def get_version(ctx: ServiceContext, model: str, number: int | None = None) -> Version:
    """The given version, or the active one when ``number`` is None."""
    if number is None:
        active = ctx.models.get(model).active_version
        if active is None:
            raise NoVersionError(
                f"Model {model!r} has no trained version yet. Train it first: `softquery train {model}`.",
                details={"model": model},
            )
        number = active
    return ctx.versions.get(model, check_number(number, "Version numbers", "version"))


def activate_version(ctx: ServiceContext, model: str, number: int) -> Version:
    ctx.versions.get(model, check_number(number, "Version numbers", "version"))
    previous = ctx.models.get(model).active_version
    ctx.models.set_active_version(model, number)
    audit.record(ctx, "version.activate", "model", model, {"version": number, "previous": previous})
    return ctx.versions.get(model, number)


def load_version(ctx: ServiceContext, version: Version) -> Any:
    """Verify the signature, then unpickle. Executes model code: job processes only."""
    artifact = ctx.versions.artifact(version.model, version.version)
    verify(ctx.secret_key(), version.manifest, artifact, version.signature,
           label=f"Version {version.version} of model {version.model!r}")
    return serialize.loads(artifact, version.manifest["code"])
