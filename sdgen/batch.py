"""Many topics: run them concurrently, write each note as it is ready, then the persona index."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import AuthenticationError, OutputError, ProviderError, SdgenError
from .index import Topic
from .personas import Persona
from .pipeline import NoteDraft, generate_note
from .providers.base import Provider, known_secrets, redact
from .write import (
    DRAFTS,
    NoteRecord,
    atomic_write,
    note_path,
    render_note,
    safe_segment,
    write_index,
)

__all__ = ["RunResult", "TopicOutcome", "run_batch"]


@dataclass(frozen=True)
class TopicOutcome:
    """What happened to one topic."""

    topic: Topic
    status: str  # "written", "invalid", "failed"
    path: Path | None = None
    reason: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0


@dataclass
class RunResult:
    outcomes: list[TopicOutcome] = field(default_factory=list)
    index_paths: list[Path] = field(default_factory=list)
    stopped: str | None = None  # why the run stopped early, if it did

    @property
    def ok(self) -> bool:
        return self.stopped is None and all(o.status == "written" for o in self.outcomes)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def front_matter(draft: NoteDraft, category: str | None) -> dict[str, Any]:
    last = draft.completions[-1]
    tags = ["system-design", f"persona/{safe_segment(draft.persona)}"]
    if category:
        tags.append(f"category/{safe_segment(category)}")
    meta: dict[str, Any] = {
        "title": draft.topic.title,
        "topic": draft.topic.title,
        "category": category,
        "persona": draft.persona,
        "provider": last.provider,
        "model": last.model,
        "created": last.created,
        "input_tokens": sum(c.usage.input_tokens for c in draft.completions),
        "output_tokens": sum(c.usage.output_tokens for c in draft.completions),
        "sdgen_version": __version__,
        "prompt_hash": draft.prompt_hash,
        "tags": tags,
    }
    if draft.topic.question:
        meta["question"] = draft.topic.question
    return {k: v for k, v in meta.items() if v is not None}


def _write_draft(out: Path, final_path: Path, draft: NoteDraft) -> Path:
    """Keep a failed answer apart, with its report, so nothing invalid passes as final."""
    relative = final_path.relative_to(out)
    path = out / DRAFTS / relative
    atomic_write(path, draft.body or "")
    report = {
        "topic": draft.topic.title,
        "persona": draft.persona,
        "error": draft.error,
        "report": draft.report.as_json() if draft.report else None,
        "calls": len(draft.completions),
        "answered": draft.completions[-1].created if draft.completions else None,
    }
    atomic_write(path.with_suffix(".report.json"), json.dumps(report, indent=2,
                                                              ensure_ascii=False) + "\n")
    return path


def _finish(out: Path, path: Path, draft: NoteDraft) -> TopicOutcome:
    # A model can echo anything it was shown; a key must not reach a note or a draft.
    draft.body = redact(draft.body, *known_secrets())
    tokens_in = sum(c.usage.input_tokens for c in draft.completions)
    tokens_out = sum(c.usage.output_tokens for c in draft.completions)
    common: dict[str, Any] = {"input_tokens": tokens_in, "output_tokens": tokens_out,
                              "calls": len(draft.completions)}
    if draft.valid:
        atomic_write(path, render_note(draft.body, front_matter(draft, draft.topic.category)))
        stale = out / DRAFTS / path.relative_to(out)
        for leftover in (stale, stale.with_suffix(".report.json")):
            leftover.unlink(missing_ok=True)
        return TopicOutcome(draft.topic, "written", path, **common)
    draft_path = _write_draft(out, path, draft)
    reason = draft.error or "; ".join(draft.report.summary()[:3] if draft.report else [])
    return TopicOutcome(draft.topic, "invalid", draft_path, reason=reason, **common)


def persona_of(topic: Topic, personas: Mapping[str, Persona], default: str) -> Persona:
    return personas[topic.persona or default]


async def run_batch(
    topics: Sequence[Topic],
    personas: Mapping[str, Persona],
    default_persona: str,
    provider: Provider,
    out: Path,
    *,
    attempts: int = 2,
    concurrency: int = 4,
    on_outcome: Callable[[TopicOutcome], None] | None = None,
) -> RunResult:
    """Generate every topic; one topic failing never stops the others (a rejected key does)."""
    taken: set[Path] = set()
    chosen = [persona_of(t, personas, default_persona) for t in topics]
    paths = [note_path(out, p.name, t.category, t.title, taken)
             for t, p in zip(topics, chosen, strict=True)]
    result = RunResult()
    outcomes: list[TopicOutcome | None] = [None] * len(topics)
    gate = asyncio.Semaphore(concurrency)
    stop = asyncio.Event()

    async def one(i: int) -> None:
        async with gate:
            if stop.is_set():
                return
            try:
                draft = await generate_note(chosen[i], topics[i], provider, attempts)
                outcome = await asyncio.to_thread(_finish, out, paths[i], draft)
            except AuthenticationError as exc:
                result.stopped = str(exc)
                stop.set()
                outcome = TopicOutcome(topics[i], "failed", reason=str(exc))
            except OutputError:
                raise
            except (ProviderError, SdgenError) as exc:
                outcome = TopicOutcome(topics[i], "failed", reason=str(exc))
            outcomes[i] = outcome
            if on_outcome:
                on_outcome(outcome)

    try:
        await asyncio.gather(*(one(i) for i in range(len(topics))))
    finally:
        await provider.aclose()
    result.outcomes = [o for o in outcomes if o is not None]
    for name in dict.fromkeys(p.name for p in chosen):  # each persona once, in index order
        notes = [NoteRecord(path, t.title, t.category)
                 for t, p, path in zip(topics, chosen, paths, strict=True)
                 if p.name == name and path.is_file()]
        if notes:
            index = write_index(out / safe_segment(name, "persona"), name, notes)
            result.index_paths.append(index)
    return result
