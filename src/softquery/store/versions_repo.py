"""Repository of trained versions and their signed artifacts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from softquery.clock import as_utc, utcnow
from softquery.domain import Version
from softquery.errors import ConflictError, NotFoundError, RunStoppedError
from softquery.store.database import write_tx
from softquery.store.tables import artifacts, models, runs, versions


def _entity(row: RowMapping, model_name: str, active: int | None) -> Version:
    return Version(
        model=model_name,
        version=row["version"],
        created_at=as_utc(row["created_at"]),  # type: ignore[arg-type]
        manifest=dict(row["manifest"]),
        signature=row["signature"],
        artifact_sha256=row["artifact_sha256"],
        artifact_size=row["artifact_size"],
        active=row["version"] == active,
    )


class VersionRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def add(
        self,
        model_name: str,
        *,
        manifest: dict[str, Any],
        signature: str,
        artifact: bytes,
        artifact_sha256: str,
        run_id: str | None,
        activate: bool,
        number: int | None = None,
        require_running: bool = False,
    ) -> Version:
        """Store a version; its number is allocated inside the same transaction.

        With ``require_running`` the version is stored only while its run is still
        running and no stop was requested (checked and locked in this transaction).
        """
        with write_tx(self.engine) as conn:
            if require_running:
                still = conn.execute(
                    update(runs).where(runs.c.id == run_id, runs.c.status == "running",
                                       runs.c.stop_requested_at.is_(None)).values(phase="storing the version")
                )
                if not still.rowcount:
                    raise RunStoppedError("The run was stopped before its version was stored; "
                                          "no version was created.", details={"run": run_id})
            model_id, version_no = self._allocate(conn, model_name)
            if number is not None and number != version_no:
                raise ConflictError(
                    f"Another training of {model_name!r} created version {number} meanwhile; "
                    "train again to create the next version.",
                    details={"model": model_name, "planned": number, "next": version_no},
                )
            inserted = conn.execute(
                insert(versions).values(
                    model_id=model_id,
                    version=version_no,
                    created_at=utcnow(),
                    run_id=run_id,
                    manifest=manifest,
                    signature=signature,
                    artifact_sha256=artifact_sha256,
                    artifact_size=len(artifact),
                )
            ).inserted_primary_key
            assert inserted is not None
            version_id = inserted[0]
            conn.execute(insert(artifacts).values(version_id=version_id, data=artifact))
            if activate:
                conn.execute(update(models).where(models.c.id == model_id).values(active_version=version_no))
        return self.get(model_name, version_no)

    def peek_next_number(self, model_name: str) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(select(models.c.next_version).where(models.c.name == model_name)).scalar()
        if value is None:
            raise NotFoundError(f"There is no model named {model_name!r}.", details={"model": model_name})
        return int(value)

    @staticmethod
    def _allocate(conn: Connection, model_name: str) -> tuple[int, int]:
        row = conn.execute(
            select(models.c.id, models.c.next_version).where(models.c.name == model_name).with_for_update()
        ).first()
        if row is None:
            raise NotFoundError(f"There is no model named {model_name!r}.", details={"model": model_name})
        model_id, version_no = int(row[0]), int(row[1])
        conn.execute(update(models).where(models.c.id == model_id).values(next_version=version_no + 1))
        return model_id, version_no

    def _model(self, conn: Connection, model_name: str) -> tuple[int, int | None]:
        row = conn.execute(select(models.c.id, models.c.active_version).where(models.c.name == model_name)).first()
        if row is None:
            raise NotFoundError(f"There is no model named {model_name!r}.", details={"model": model_name})
        return int(row[0]), row[1]

    def list(self, model_name: str) -> list[Version]:
        with self.engine.connect() as conn:
            model_id, active = self._model(conn, model_name)
            rows = conn.execute(
                select(versions).where(versions.c.model_id == model_id).order_by(versions.c.version)
            ).mappings().all()
        return [_entity(r, model_name, active) for r in rows]

    def get(self, model_name: str, number: int) -> Version:
        with self.engine.connect() as conn:
            model_id, active = self._model(conn, model_name)
            row = conn.execute(
                select(versions).where(versions.c.model_id == model_id, versions.c.version == number)
            ).mappings().first()
        if row is None:
            raise NotFoundError(
                f"Model {model_name!r} has no version {number}. See `softquery versions {model_name}`.",
                details={"model": model_name, "version": number},
            )
        return _entity(row, model_name, active)

    def by_run(self, run_id: str) -> tuple[str, int] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(models.c.name, versions.c.version)
                .join(models, models.c.id == versions.c.model_id)
                .where(versions.c.run_id == run_id)
            ).first()
        return (row[0], int(row[1])) if row else None

    def artifact(self, model_name: str, number: int) -> bytes:
        with self.engine.connect() as conn:
            model_id, _ = self._model(conn, model_name)
            data = conn.execute(
                select(artifacts.c.data)
                .join(versions, versions.c.id == artifacts.c.version_id)
                .where(versions.c.model_id == model_id, versions.c.version == number)
            ).scalar()
        if data is None:
            raise NotFoundError(
                f"The artifact of {model_name!r} version {number} is missing.",
                details={"model": model_name, "version": number},
            )
        return bytes(data)
