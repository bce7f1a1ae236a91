"""Each topic's request, resolved once: its persona, its composed prompt, how it is sent, where
its note goes. Everything downstream (the runner, the repair loop, the providers, the note
writer) takes these values and never looks settings up again.

Two counts are easy to confuse, so they carry different names everywhere past the settings:
``answers_per_topic`` (setting ``attempts``: the first answer plus repairs) and
``calls_per_request`` (setting ``retries``: tries of one HTTP request under the retry policy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .compose import CallConfig, Prompt, compose
from .config import Settings
from .notes import note_path
from .personas import Persona, load_persona
from .topics import Topic
from .validate import ValidationOptions

__all__ = ["AnswerPolicy", "TopicJob", "answer_policy", "call_config", "load_personas",
           "plan_jobs", "validation_options"]


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
    prompt: Prompt  # composed once; carries the call config (prompt.config)
    path: Path  # where its note goes

    @property
    def config(self) -> CallConfig:
        return self.prompt.config


def call_config(settings: Settings) -> CallConfig:
    """The run's call config; each prompt caps its output budget by its persona's."""
    return CallConfig(max_tokens=settings.max_tokens, temperature=settings.temperature,
                      calls_per_request=settings.retries, timeout=settings.timeout,
                      max_wait=settings.max_wait)


def answer_policy(settings: Settings) -> AnswerPolicy:
    return AnswerPolicy(answers_per_topic=settings.attempts, continuations=settings.continuations,
                        validation=validation_options(settings))


def validation_options(settings: Settings) -> ValidationOptions:
    return ValidationOptions(diagram_check=settings.diagram_check)


def load_personas(settings: Settings, topics: Sequence[Topic]) -> dict[str, Persona]:
    """The run's persona and every persona a topic names, each loaded once."""
    names = dict.fromkeys([settings.persona, *(t.persona for t in topics if t.persona)])
    return {name: load_persona(name, settings.personas_dir) for name in names if name}


def plan_jobs(topics: Sequence[Topic], personas: Mapping[str, Persona], default_persona: str,
              config: CallConfig, out: Path) -> list[TopicJob]:
    """A job per topic, composed now: a broken template fails here, with its file named, before
    anything is written. Topics whose names make the same file name get numbered paths."""
    taken: set[Path] = set()
    jobs = []
    for topic in topics:
        persona = personas[topic.persona or default_persona]
        prompt = compose(persona, topic, config)
        jobs.append(TopicJob(topic, persona, prompt,
                             note_path(out, persona.name, topic.category, topic.title, taken)))
    return jobs
