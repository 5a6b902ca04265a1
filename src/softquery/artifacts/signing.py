"""HMAC-SHA256 over an artifact and its manifest, checked before unpickling."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from softquery.errors import ArtifactIntegrityError

_DOMAIN = b"softquery-artifact-v1\x00"


def canonical_json(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def json_clean(value: Any) -> Any:
    """Round-trip through JSON so what is signed equals what the DB gives back."""
    return json.loads(json.dumps(value, default=str, allow_nan=False))


def sign(key: bytes, manifest: dict[str, Any], artifact: bytes) -> str:
    mac = hmac.new(key, _DOMAIN, hashlib.sha256)
    mac.update(canonical_json(manifest))
    mac.update(b"\x00")
    mac.update(artifact)
    return mac.hexdigest()


def verify(key: bytes, manifest: dict[str, Any], artifact: bytes, signature: str, *, label: str) -> None:
    """Raise ``ArtifactIntegrityError`` unless ``signature`` matches; ``label`` names the version."""
    expected = sign(key, manifest, artifact)
    if not hmac.compare_digest(expected, signature or ""):
        raise ArtifactIntegrityError(
            f"{label} failed its integrity check: the stored model or its description was changed "
            "after training, or it was signed with a different secret key. It was not loaded. "
            "Retrain the model to create a trusted version.",
            details={"artifact_sha256": hashlib.sha256(artifact).hexdigest()},
        )
