"""Providers register by name in the entry-point group ``sdgen.providers``.

The built-in ones register the same way a third-party plug-in does (see pyproject.toml).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from types import MappingProxyType
from typing import Any

from ..errors import UnknownProviderError
from ._answers import (
    AnswerTimeoutError,
    AnswerTooLargeError,
    ErrorAnswerError,
    IncompleteAnswerError,
    MalformedAnswerError,
    NotAnAnswerError,
    check_size,
    error_answer,
    kind_of,
    one_line,
    plausible_usage,
)
from ._base import (
    BatchProvider,
    BatchStatus,
    Completion,
    Provider,
    ProviderSettings,
    TextCallback,
    Usage,
    clean_text,
)
from ._defaults import DEFAULT_MODELS
from ._limits import RateLimiter, TokenBucket
from ._recording import RecordingProvider, ReplayMissError, ReplayProvider, request_key
from ._retry import ATTEMPT_BUDGET, AttemptBudget, call_with_retries, reservation
from ._secrets import known_secrets, redact, register_key_variable, register_secret, url_password

# The protocol, the shared base and the recordings; the SDK providers themselves load by their
# entry points (importing an SDK costs start-up time a command may not need).
__all__ = [
    "ATTEMPT_BUDGET", "AnswerTimeoutError", "AnswerTooLargeError", "AttemptBudget", "BatchProvider",
    "BatchStatus", "Completion", "ErrorAnswerError", "IncompleteAnswerError", "MalformedAnswerError",
    "NotAnAnswerError", "Provider", "ProviderSettings", "RateLimiter", "RecordingProvider",
    "ReplayMissError", "ReplayProvider", "TextCallback", "TokenBucket", "Usage", "call_with_retries",
    "check_size", "clean_text", "create_provider", "default_model", "error_answer", "key_variable",
    "kind_of", "known_secrets", "one_line", "plausible_usage", "provider_names", "redact",
    "register_key_variable", "register_secret", "request_key", "reservation", "url_password",
]

GROUP = "sdgen.providers"
_registry: Mapping[str, EntryPoint] | None = None


def _entry_points() -> Mapping[str, EntryPoint]:
    # Loaded once: scanning installed distributions costs tens of milliseconds.
    global _registry
    if _registry is None:
        _registry = MappingProxyType({ep.name: ep for ep in entry_points(group=GROUP)})
    return _registry


def provider_names() -> list[str]:
    return sorted(_entry_points())


def default_model(name: str) -> str | None:
    """The model a provider uses when none is named (None for unknown providers)."""
    if name in DEFAULT_MODELS:
        return DEFAULT_MODELS[name]
    entry = _entry_points().get(name)
    model = getattr(entry.load(), "default_model", None) if entry else None
    return model if isinstance(model, str) else None


def key_variable(name: str) -> str | None:
    """The environment variable a provider reads its API key from (None: none, or unknown)."""
    entry = _entry_points().get(name)
    variable = getattr(entry.load(), "key_env", None) if entry else None
    return variable if isinstance(variable, str) else None


def create_provider(settings: ProviderSettings) -> Provider:
    """Instantiate the provider named in the settings."""
    registry = _entry_points()
    if settings.provider not in registry:
        close = difflib.get_close_matches(settings.provider, list(registry), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UnknownProviderError(
            f"unknown provider {settings.provider!r}{hint} (known: {', '.join(sorted(registry))})"
        )
    factory: Any = registry[settings.provider].load()
    # Before the provider reads its key: from here on, that key is redacted everywhere.
    register_key_variable(getattr(factory, "key_env", None))
    provider: Provider = factory(settings)
    return provider
