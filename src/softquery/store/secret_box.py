"""Encryption of data-source URLs that carry a password (secrets at rest).

The key is derived from the server's secret key with HKDF-SHA256
(``info=b"softquery source passwords"``), so signing artifacts and encrypting
passwords never share key material. Tokens are Fernet (AES-128-CBC + HMAC).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from softquery.errors import SourceError

INFO = b"softquery source passwords"


class SecretBox:
    def __init__(self, secret_key: bytes) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(secret_key)
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode("ascii")

    def decrypt(self, token: str, *, source: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, ValueError) as exc:
            raise SourceError(
                f"Cannot decrypt the password of data source {source!r}: was the secret key changed? "
                "Restore the secret key it was saved with, or remove the source and add it again.",
                details={"source": source},
            ) from exc
