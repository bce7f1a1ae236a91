"""One topic's answer as the repair loop leaves it: the document, its report, every call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..check import Report
from ..compose import Topic
from ..providers import Completion

__all__ = ["NoteDraft"]


@dataclass
class NoteDraft:
    """One topic's answer as the repair loop leaves it: the document, its report, every call."""

    topic: Topic
    persona: str
    prompt_hash: str
    body: str = ""
    report: Report | None = None
    completions: list[Completion] = field(default_factory=list)
    error: str | None = None
    conversation: list[dict[str, str]] = field(default_factory=list)  # a conversation persona's
    answer_meta: dict[str, Any] = field(default_factory=dict)  # the model's own front matter
    base_url: str | None = None  # the server that answered (no credentials), when one was set

    @property
    def valid(self) -> bool:
        return self.error is None and self.report is not None and self.report.valid

    @property
    def input_tokens(self) -> int:
        return sum(c.usage.input_tokens for c in self.completions)

    @property
    def output_tokens(self) -> int:
        return sum(c.usage.output_tokens for c in self.completions)
