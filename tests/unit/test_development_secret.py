"""Which secret keys are fit only for development, and which hosts are this machine only."""

from __future__ import annotations

import secrets

import pytest

from softquery.services.home import is_development_secret, is_loopback


@pytest.mark.parametrize("key", [
    b"", b"changeme", b"CHANGEME", b"changethis", b"secret", b"dev", b"development", b"softquery",
    b"test", b"password", b"Password",
    b"x" * 20,  # too short
    b"k3J9!qL0zP2@wX8#vN5$rT7&",  # random-looking but 24 bytes: too short
    b"a" * 64,  # one character
    b"changemechangemechangemechangeme",  # a short key repeated
    b"0123456789abcdef0123456789abcdef",
    b"CHANGETHIS_CHANGETHIS_CHANGETHIS_",
    b"softquery-development-secret-key-1234",
    b"this-is-not-a-secret-for-production!!",
    b"  changeme-changeme-changeme-changeme \n",
])
def test_development_secrets(key: bytes) -> None:
    assert is_development_secret(key)


@pytest.mark.parametrize("key", [
    secrets.token_hex(32).encode(),  # what `softquery init` writes
    secrets.token_hex(16).encode(),  # 32 hex characters
    secrets.token_urlsafe(32).encode(),
    b"correct-horse-battery-staple-orbit-lantern",
])
def test_real_secrets(key: bytes) -> None:
    assert not is_development_secret(key)


def test_init_key_files_are_never_development_secrets() -> None:
    assert not any(is_development_secret(secrets.token_hex(32).encode()) for _ in range(2000))


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.10", "10.0.0.1", "example.com",
                                  "localhost.example.com", "128.0.0.1"])
def test_hosts_beyond_this_machine(host: str) -> None:
    assert not is_loopback(host)
