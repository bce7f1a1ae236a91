"""sdgen: system-design study notes written by an LLM in a persona's voice, validated before saving.

    >>> import sdgen
    >>> result = sdgen.generate(["Rate Limiter"], persona="obsidian", provider="openai")
"""

from ._version import __version__
from .api import (
    batches,
    chat,
    collect,
    generate,
    link_notes,
    plan,
    regenerate_sections,
    submit,
    validate_note,
)
from .compose import Prompt, compose
from .config import Settings, load_settings
from .errors import SdgenError
from .personas import Persona, list_personas, load_persona
from .providers.base import Completion, Provider, ProviderSettings
from .report import RunResult, TopicOutcome
from .topics import Topic, read_index
from .validate import Report

__all__ = [
    "Completion",
    "Persona",
    "Prompt",
    "Provider",
    "ProviderSettings",
    "Report",
    "RunResult",
    "SdgenError",
    "Settings",
    "Topic",
    "TopicOutcome",
    "__version__",
    "batches",
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
