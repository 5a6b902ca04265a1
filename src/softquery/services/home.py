"""Create and upgrade a softquery home: folder, metadata DB, secret key (all private to their
owner: services/home_privacy.py)."""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, field

from softquery.config import Settings
from softquery.errors import SoftqueryError
from softquery.services.context import read_secret_key, source_repository
from softquery.services.home_privacy import (
    PRIVATE_FILE,
    create_private_file,
    make_private_dir,
    metadata_file,
    secure_home,
)
from softquery.store.database import make_engine, migrate


@dataclass
class InitResult:
    home: str
    database: str
    created_key: bool
    repaired: list[str] = field(default_factory=list)  # what secure_home made private


def init_home(settings: Settings) -> InitResult:
    """Idempotent: creates what is missing and migrates the DB to the newest schema."""
    home = settings.home
    make_private_dir(home)
    created_key = False
    if not settings.secret_key and not settings.secret_key_path.exists():
        fd = os.open(settings.secret_key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        created_key = True
    db_file = metadata_file(settings)
    if db_file is not None:
        create_private_file(db_file)  # before SQLite creates it with the umask's mode
    engine = make_engine(settings.metadata_url)
    try:
        migrate(engine)
        # Passwords saved before they were encrypted at rest: encrypt them now (init has the key).
        source_repository(settings, engine).encrypt_plaintext()
    finally:
        engine.dispose()
    database = settings.metadata_url
    if "@" in database:
        from softquery.data.source_urls import mask_url

        database = mask_url(database)
    return InitResult(home=str(home), database=database, created_key=created_key,
                      repaired=secure_home(settings))


MIN_SECRET_BYTES = 32
# words of the placeholder secrets people copy from examples; a key made only of them
# (in any case, with any separators, repeated) is a development secret
PLACEHOLDER_WORDS = frozenset({
    "changeme", "changethis", "change", "this", "me", "it", "secret", "secretkey", "key", "dev",
    "development", "softquery", "test", "testing", "password", "passwd", "default", "example",
    "insecure", "unsafe", "please", "replace", "your", "here", "not", "for", "production", "prod",
    "do", "use", "in", "a", "the", "local", "demo", "sample", "xxx", "todo", "fixme", "admin",
    "django", "flask", "fastapi", "super", "my", "top", "only", "is", "an", "to", "be", "of",
    "with", "real", "value", "should", "must", "app", "server", "session", "token", "string",
})
KEY_HOWTO = ('make a real key with `python -c "import secrets; print(secrets.token_hex(32))"` and put it '
             "into SOFTQUERY_SECRET_KEY")


def is_development_secret(key: bytes) -> bool:
    """True for keys fit only for a laptop: shorter than 32 bytes, one repeated character,
    a shorter key repeated, or made only of placeholder words (changeme, secret, dev …)."""
    key = key.strip()
    if len(key) < MIN_SECRET_BYTES or len(set(key)) == 1:
        return True
    for period in range(1, len(key) // 2 + 1):  # "abab…", "changeme" x 4: a short key repeated
        if key == (key[:period] * (len(key) // period + 1))[:len(key)]:
            return True
    words = [w for w in re.split(rb"[^a-z0-9]+", key.lower()) if w]
    return bool(words) and all(_placeholder(w.decode("ascii")) for w in words)


@functools.lru_cache(maxsize=1024)
def _placeholder(word: str) -> bool:
    """A placeholder word, or placeholder words run together (``changemesecretkey``)."""
    if word in PLACEHOLDER_WORDS or word.isdigit():
        return True
    return any(word.startswith(p) and _placeholder(word[len(p):])
               for p in PLACEHOLDER_WORDS if len(p) < len(word))


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost; anything else (0.0.0.0, names, LAN addresses) is not."""
    host = host.strip().strip("[]")
    if host.lower() in ("localhost", "localhost.", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_serving_secret(settings: Settings, host: str) -> None:
    """Refuse to listen beyond this machine with a development secret: whoever guesses it
    can forge signed model artifacts and decrypt the stored source passwords."""
    if is_loopback(host):
        return
    key = read_secret_key(settings)
    if not is_development_secret(key):
        return
    if settings.secret_key:
        where = "SOFTQUERY_SECRET_KEY holds a development secret"
        fix = (f"{KEY_HOWTO}, or unset SOFTQUERY_SECRET_KEY to use the random key file "
               f"`softquery init` wrote ({settings.secret_key_path})")
    else:
        where = f"the secret key file {settings.secret_key_path} holds a development secret"
        fix = f"{KEY_HOWTO}, or replace the file's content with such a key"
    raise SoftqueryError(
        f"softquery serve refuses to listen on {host}: {where} (shorter than {MIN_SECRET_BYTES} "
        f"characters, repetitive or a well-known placeholder), and anyone who can reach the server "
        f"could use it to forge signed model artifacts and read stored source passwords. To serve "
        f"other machines, {fix}; versions trained and source passwords saved under the old key "
        f"will not open with the new one (retrain them, add the sources again). To try softquery "
        f"on this machine only, use --host 127.0.0.1.",
        code="development_secret", details={"host": host})
