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
from functools import cached_property
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
    """A job per topic. Each persona's first job is composed now, so a broken template fails
    here, with its file named, before anything is written; the others compose when they run.
    Topics whose names make the same file name get numbered paths."""
    taken: set[Path] = set()
    jobs = []
    for topic in topics:
        persona = personas[topic.persona or default_persona]
        jobs.append(TopicJob(topic, persona, config,
                             note_path(out, persona.name, topic.category, topic.title, taken)))
    checked: set[str] = set()
    for job in jobs:
        if job.persona.name not in checked:
            checked.add(job.persona.name)
            _ = job.prompt
    return jobs
