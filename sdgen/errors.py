"""The one exception tree of sdgen. The CLI turns each into a message and an exit code.

    SdgenError                      exit 2 unless said otherwise
    ├── ConfigError                 bad sdgen.toml, environment or option value
    ├── PersonaError                unknown persona, broken spec or template
    ├── TopicIndexError             unreadable index, a line that is not a topic
    ├── NoteError                   a note that cannot be read or validated
    ├── OutputError                 the output folder cannot be written
    └── ProviderError               the LLM provider failed
        ├── UnknownProviderError
        ├── MissingKeyError         no API key where one is needed
        ├── AuthenticationError     the key was rejected (401/403)
        └── ProviderCallError       the call failed after retries (exit 1: the run goes on)
"""

from __future__ import annotations


class SdgenError(Exception):
    """Root of every error sdgen raises on purpose."""

    exit_code = 2


class ConfigError(SdgenError):
    pass


class PersonaError(SdgenError):
    pass


class TopicIndexError(SdgenError):
    pass


class NoteError(SdgenError):
    pass


class OutputError(SdgenError):
    pass


class ProviderError(SdgenError):
    def __init__(self, message: str, *, provider: str = "") -> None:
        super().__init__(message)
        self.provider = provider


class UnknownProviderError(ProviderError):
    pass


class MissingKeyError(ProviderError):
    pass


class AuthenticationError(ProviderError):
    pass


class ProviderCallError(ProviderError):
    exit_code = 1
