"""Each topic's request, resolved once: its persona, its composed prompt, how it is sent, where
its note goes. Everything downstream (the runner, the repair loop, the providers, the note
writer) takes these values and never looks settings up again.

Two counts are easy to confuse, so they carry different names everywhere past the settings:
``answers_per_topic`` (setting ``attempts``: the first answer plus repairs) and
``calls_per_request`` (setting ``retries``: tries of one HTTP request under the retry policy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..check import ValidationOptions
from ..compose import CallConfig, Persona, Prompt, Topic, compose
from ..config import Settings

__all__ = ["AnswerPolicy", "TopicJob", "answer_policy", "call_config", "validation_options"]


@dataclass(frozen=True)
class AnswerPolicy:
    """What the repair loop accepts, and how hard it tries for one topic."""

    answers_per_topic: int = 2  # the first answer plus repairs
    continuations: int = 2  # follow-up calls for an answer cut at the output limit
    validation: ValidationOptions = field(default_factory=ValidationOptions)


@dataclass(frozen=True)
class TopicJob:
    """One topic, resolved: everything needed to ask for its note and write it."""

    topic: Topic
    persona: Persona
    call: CallConfig  # the run's; the prompt caps its output budget by the persona's
    path: Path  # where its note goes

    @cached_property
    def prompt(self) -> Prompt:
        """The composed request (composed once, on first use; it carries its call config)."""
        return compose(self.persona, self.topic, self.call)

    def release(self) -> None:
        """Forget the composed prompt once the topic is done: a thousand-topic run then holds
        only the prompts of the topics under way."""
        self.__dict__.pop("prompt", None)


def call_config(settings: Settings) -> CallConfig:
    """The run's call config; each prompt caps its output budget by its persona's."""
    return CallConfig(max_tokens=settings.max_tokens, temperature=settings.temperature,
                      calls_per_request=settings.retries, timeout=settings.timeout,
                      max_wait=settings.max_wait, answer_timeout=settings.answer_timeout)


def answer_policy(settings: Settings) -> AnswerPolicy:
    return AnswerPolicy(answers_per_topic=settings.attempts, continuations=settings.continuations,
                        validation=validation_options(settings))


def validation_options(settings: Settings) -> ValidationOptions:
    return ValidationOptions(diagram_check=settings.diagram_check)
