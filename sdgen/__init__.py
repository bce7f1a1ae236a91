"""sdgen: system-design study notes written by an LLM in a persona's voice, validated before saving.

    >>> import sdgen
    >>> result = sdgen.generate(["Rate Limiter"], persona="obsidian", provider="openai")

The public names load on first use (PEP 562), so ``import sdgen`` and the command line start
without pydantic, Jinja2, markdown-it or the provider SDKs.
"""

from __future__ import annotations

from importlib import import_module

from ._version import __version__
from .errors import (  # the error tree is light, and loaded with the package
    AnswerRejectedError,
    AuthenticationError,
    ConfigError,
    DiagramCheckUnavailableError,
    MissingKeyError,
    NoteChangedError,
    NoteError,
    OutputError,
    PersonaError,
    ProviderCallError,
    ProviderError,
    ReadOnlyFileError,
    ReplayMissError,
    RunStoppedError,
    SdgenError,
    SectionNotFoundError,
    SiteError,
    SpendingCapReached,
    TopicIndexError,
    UnknownProviderError,
)

TYPE_CHECKING = False  # typing itself is not imported: it is a tenth of the start-up time
if TYPE_CHECKING:
    from typing import Any

    from .api import (
        batches,
        build_site,
        chat,
        collect,
        generate,
        link_notes,
        plan,
        regenerate_sections,
        submit,
        validate_note,
    )
    from .budget import Estimate
    from .check import Report
    from .compose import Persona, Prompt, Topic, compose, list_personas, load_persona, read_index
    from .config import Settings, load_settings
    from .providers import Completion, Provider, ProviderSettings
    from .run import ChatIO, RegenResult, RunDisplay, RunResult, TopicOutcome
    from .site import SiteResult
    from .vault import LinkReport

# Where each public name lives.
_HOMES = {
    **dict.fromkeys(["batches", "build_site", "chat", "collect", "generate", "link_notes", "plan",
                     "regenerate_sections", "submit", "validate_note"], "api"),
    **dict.fromkeys(["Persona", "Prompt", "Topic", "compose", "list_personas", "load_persona",
                     "read_index"], "compose"),
    **dict.fromkeys(["Settings", "load_settings"], "config"),
    **dict.fromkeys(["Completion", "Provider", "ProviderSettings"], "providers"),
    **dict.fromkeys(["ChatIO", "RegenResult", "RunDisplay", "RunResult", "TopicOutcome"], "run"),
    "Estimate": "budget",
    "LinkReport": "vault",
    "Report": "check",
    "SiteResult": "site",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sdgen' has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value  # once loaded, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


__all__ = [
    "AnswerRejectedError",
    "AuthenticationError",
    "ChatIO",
    "Completion",
    "ConfigError",
    "DiagramCheckUnavailableError",
    "Estimate",
    "LinkReport",
    "MissingKeyError",
    "NoteChangedError",
    "NoteError",
    "OutputError",
    "Persona",
    "PersonaError",
    "Prompt",
    "Provider",
    "ProviderCallError",
    "ProviderError",
    "ProviderSettings",
    "ReadOnlyFileError",
    "RegenResult",
    "ReplayMissError",
    "Report",
    "RunDisplay",
    "RunResult",
    "RunStoppedError",
    "SdgenError",
    "SectionNotFoundError",
    "Settings",
    "SiteError",
    "SiteResult",
    "SpendingCapReached",
    "Topic",
    "TopicIndexError",
    "TopicOutcome",
    "UnknownProviderError",
    "__version__",
    "batches",
    "build_site",
    "chat",
    "collect",
    "compose",
    "generate",
    "link_notes",
    "list_personas",
    "load_persona",
    "load_settings",
    "plan",
    "read_index",
    "regenerate_sections",
    "submit",
    "validate_note",
]
