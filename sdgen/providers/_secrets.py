"""Secrets kept out of everything sdgen writes and logs: the API keys of the environment's key
variables (every registered provider's), a base URL's password, and any string shaped like a
provider's key, whole or echoed in part."""

from __future__ import annotations

import functools
import os
import re

__all__ = [
    "KEY_VARIABLES",
    "known_secrets",
    "redact",
    "register_key_variable",
    "register_secret",
    "url_password",
]

# Strings shaped exactly like a provider's key (OpenAI's sk-…, sk-proj-…, Anthropic's
# sk-ant-…), whoever's they are. Ordinary words ("Key-Generation-Service") never match.
_KEYLIKE = re.compile(r"(?<![\w-])sk-(?:proj-|ant-(?:api\d\d-)?|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")
_ECHO = 12  # this many characters of a key, echoed anywhere, are redacted (a key shown in part)
_extra_secrets: list[str] = []  # secrets that are not keys (a password in a base URL)

# Read whatever provider is in use: sdgen's own variable, and both SDKs' (a base URL's proxy
# may forward them). Each registered provider adds its own ``key_env``.
KEY_VARIABLES = ("SDGEN_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY")
_key_variables: list[str] = list(KEY_VARIABLES)


def register_key_variable(name: str | None) -> None:
    """Keep the key read from ``name`` out of everything sdgen writes and logs."""
    if name and name not in _key_variables:
        _key_variables.append(name)


def register_secret(value: str | None) -> None:
    """Keep a secret that is not an API key (a base URL's password) out of logs and files."""
    if value and len(value) >= 4 and value not in _extra_secrets:
        _extra_secrets.append(value)


def url_password(url: str | None) -> str | None:
    """The password in a URL's ``user:password@`` part, if it has one."""
    if not url:
        return None
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).password
    except ValueError:
        return None


def known_secrets() -> tuple[str, ...]:
    """The API keys in this process's environment (every registered provider's variable), and
    the passwords of the base URLs in use: kept out of everything sdgen writes and logs."""
    keys = [v for k in _key_variables if len(v := os.environ.get(k, "")) >= 8]
    urls = [url_password(os.environ.get(k)) for k in
            ("SDGEN_BASE_URL", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL")]
    return tuple(dict.fromkeys([*keys, *(p for p in urls if p), *_extra_secrets]))


@functools.lru_cache(maxsize=16)
def _pieces(secret: str) -> re.Pattern[str]:
    """Every ``_ECHO``-character piece of a secret, found at every position (overlapping)."""
    pieces = sorted({secret[i:i + _ECHO] for i in range(len(secret) - _ECHO + 1)})
    return re.compile("(?=(" + "|".join(map(re.escape, pieces)) + "))")


def _echoes(text: str, secret: str) -> list[tuple[int, int]]:
    """Where ``text`` shows any ``_ECHO``-character piece of ``secret`` (a key cut in part)."""
    found: list[tuple[int, int]] = []
    for match in _pieces(secret).finditer(text):
        start = match.start()
        if found and start <= found[-1][1]:
            found[-1] = (found[-1][0], start + _ECHO)
        else:
            found.append((start, start + _ECHO))
    return found


def redact(text: str, *secrets: str | None) -> str:
    """Remove secrets from a message: the given ones whole, any long piece of them (a key
    echoed in part), and any string shaped exactly like a provider's key."""
    for secret in secrets:
        if not secret or len(secret) < 4:
            continue
        text = text.replace(secret, "[redacted]")
        if len(secret) >= _ECHO and len(text) < 1_000_000:
            for start, end in reversed(_echoes(text, secret)):
                text = text[:start] + "[redacted]" + text[end:]
    return _KEYLIKE.sub("[redacted]", text)
