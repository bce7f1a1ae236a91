"""One topic end to end: compose, call, parse, validate, and repair until valid or out of attempts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

from .compose import Prompt, compose, compose_followup
from .index import Topic
from .markdown import parse_document
from .personas import Persona
from .providers.base import Completion, Provider
from .validate import Report, validate_document

__all__ = ["NoteDraft", "StateCallback", "check_answer", "generate_note"]

_REFUSALS = {"content_filter", "refusal"}


@dataclass
class NoteDraft:
    """The outcome of generating one topic: the document, its report, and every call made."""

    topic: Topic
    persona: str
    prompt_hash: str
    body: str = ""
    report: Report | None = None
    completions: list[Completion] = field(default_factory=list)
    error: str | None = None

    @property
    def valid(self) -> bool:
        return self.error is None and self.report is not None and self.report.valid


def check_answer(persona: Persona, topic: Topic, answer: str) -> tuple[str, Report]:
    """The document inside an answer, with a level-1 title, and its validation report."""
    doc = parse_document(answer, raw_answer=True)
    body = doc.body
    if not any(h.level == 1 for h in doc.headings[:1]):
        body = f"# {topic.title}\n\n{body}"
        doc = parse_document(body)
    return body, validate_document(doc, persona.spec)


StateCallback = Callable[[str, int], None]  # (state, characters streamed so far)


async def generate_note(persona: Persona, topic: Topic, provider: Provider, attempts: int = 2,
                        *, prompt: Prompt | None = None, on_state: StateCallback | None = None,
                        executor: Executor | None = None) -> NoteDraft:
    """Ask, validate, and re-ask with the exact problems, up to ``attempts`` answers."""
    report_state = on_state or (lambda state, size: None)
    report_state("composing", 0)
    prompt = prompt or compose(persona, topic)
    draft = NoteDraft(topic=topic, persona=persona.name, prompt_hash=prompt.prompt_hash)
    for attempt in range(1, attempts + 1):
        received = 0
        state = "streaming" if attempt == 1 else "repairing"

        def count(piece: str, state: str = state) -> None:
            nonlocal received
            received += len(piece)
            report_state(state, received)

        report_state(state, 0)
        completion = await provider.complete(prompt, count)
        draft.completions.append(completion)
        report_state("validating", received)
        if completion.finish_reason in _REFUSALS:
            draft.error = f"the model declined to answer (finish reason: {completion.finish_reason})"
            return draft
        # Parsing and validating a long note is CPU work: keep it off the event loop (in a
        # worker process when the run has a pool, else in a thread).
        loop = asyncio.get_running_loop()
        draft.body, report = await loop.run_in_executor(executor, check_answer, persona, topic,
                                                        completion.text)
        draft.report = report
        if report.valid and not completion.truncated:
            return draft
        if attempt == attempts:
            break
        problems = report.summary()
        if completion.truncated:
            problems.insert(0, "the answer was cut off at the token limit: keep every section "
                               "more concise so the whole document fits")
        prompt = compose_followup(persona, prompt, completion.text, "repair.md.j2",
                                  problems=problems)
    if draft.completions and draft.completions[-1].truncated and not draft.error:
        draft.error = "the answer was cut off at the token limit"
    return draft
