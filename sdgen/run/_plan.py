"""The run's plan: a job per topic, each persona loaded once, a topic that has a note keeping its
path, and the topics whose names nearly coincide."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from .._files import safe_segment
from ..check import topic_key
from ..compose import CallConfig, Persona, Topic, load_persona
from ..config import Settings
from ..repair import TopicJob
from ..vault import note_path, notes_in

__all__ = [
    "load_personas",
    "near_duplicates",
    "plan_jobs",
]


def load_personas(settings: Settings, topics: Sequence[Topic]) -> dict[str, Persona]:
    """The run's persona and every persona a topic names, each loaded once."""
    names = dict.fromkeys([settings.persona, *(t.persona for t in topics if t.persona)])
    return {name: load_persona(name, settings.personas_dir) for name in names if name}


def _existing(out: Path, persona: str) -> dict[tuple[str, str], Path]:
    """The notes a persona already has, by (topic, category), case aside."""
    folder = out / safe_segment(persona, "persona")
    if not folder.is_dir():
        return {}
    return {(r.title.casefold(), (r.category or "").casefold()): r.path for r in notes_in(folder)}


def plan_jobs(topics: Sequence[Topic], personas: Mapping[str, Persona], default_persona: str,
              config: CallConfig, out: Path) -> list[TopicJob]:
    """A job per topic. Each persona's first job is composed now, so a broken template fails
    here, with its file named, before anything is written; the others compose when they run.

    A topic that already has a note keeps that note's path, whatever else the run holds; a new
    topic never takes the path of another topic's note (names that make the same file name get
    numbered paths: ``slug.md``, ``slug-2.md``)."""
    chosen = [personas[t.persona or default_persona] for t in topics]
    existing = {p.name: _existing(out, p.name) for p in chosen}
    taken: set[Path] = {path for notes in existing.values() for path in notes.values()}
    paths: list[Path | None] = [
        existing[p.name].get((t.title.casefold(), (t.category or "").casefold()))
        for t, p in zip(topics, chosen, strict=True)]
    jobs = []
    for topic, persona, path in zip(topics, chosen, paths, strict=True):
        path = path or note_path(out, persona.name, topic.category, topic.title, taken)
        jobs.append(TopicJob(topic, persona, config, path))
    checked: set[str] = set()
    for job in jobs:
        if job.persona.name not in checked:
            checked.add(job.persona.name)
            _ = job.prompt
    return jobs


def near_duplicates(jobs: Sequence[TopicJob], out: Path) -> list[list[str]]:
    """Topics of this run whose names nearly coincide with each other or with a note the persona
    already has ("Rate Limiter", "Rate-Limiter", "Rate Limiting"): each gets its own note, which
    is seldom what was meant. Each group, this run's names first."""
    groups: dict[tuple[str, str], list[str]] = {}
    for job in jobs:
        groups.setdefault((job.persona.name, topic_key(job.topic.title)), []).append(
            job.topic.title)
    for persona in {j.persona.name for j in jobs}:
        folder = out / safe_segment(persona, "persona")
        for record in notes_in(folder) if folder.is_dir() else []:
            key = (persona, topic_key(record.title))
            if key in groups:
                groups[key].append(record.title)
    found = []
    for names in groups.values():
        distinct = list(dict.fromkeys(names))
        spellings = {n.casefold() for n in distinct}
        if len(spellings) > 1:
            found.append([n for n in distinct if n.casefold() in spellings][:6])
    return found
