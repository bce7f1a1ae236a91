"""One topic end to end: compose, call, parse, validate, and repair until valid or out of attempts."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

from .compose import Message, Prompt, compose, compose_followup, render_note_template
from .markdown import parse_document
from .personas import Persona
from .providers.base import Completion, Provider, TextCallback
from .sections import (
    SectionTarget,
    ask_for_sections,
    extract_sections,
    splice_sections,
    targets_for,
)
from .topics import Topic
from .validate import Report, validate_document

__all__ = ["NoteDraft", "StateCallback", "check_answer", "generate_note", "join_continuation"]

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
    conversation: list[dict[str, str]] = field(default_factory=list)  # a conversation persona's

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


def join_continuation(partial: str, more: str) -> str:
    """Join a cut answer and its continuation without losing or doubling text.

    Models asked to continue often repeat the line they were cut in, or reopen the code block
    they were cut inside; both repeats are dropped.
    """
    open_fence = len(re.findall(r"(?m)^ {0,3}(?:```|~~~)", partial)) % 2 == 1
    if open_fence and re.match(r"^\s*(```|~~~)[\w+-]*[ \t]*\n", more):
        more = more.lstrip().split("\n", 1)[1] if "\n" in more.lstrip() else ""
    last_line = partial.rsplit("\n", 1)[-1]
    if len(last_line.strip()) >= 8 and more.lstrip().startswith(last_line.lstrip()):
        return partial[: len(partial) - len(last_line)] + more.lstrip()
    for size in range(min(len(partial), len(more), 2000), 15, -1):
        if partial.endswith(more[:size]):
            return partial + more[size:]
    return partial + more


async def _complete_whole(persona: Persona, prompt: Prompt, provider: Provider,
                          draft: NoteDraft, continuations: int,
                          on_text: TextCallback, first: Completion | None = None) -> Completion:
    """One answer (``first`` when it came from a batch), continued while the provider stops it
    at the output limit."""
    completion = first or await provider.complete(prompt, on_text)
    draft.completions.append(completion)
    text = completion.text
    for _ in range(continuations):
        if not completion.truncated:
            break
        follow = compose_followup(persona, prompt, text, "continue.md.j2")
        completion = await provider.complete(follow, on_text)
        draft.completions.append(completion)
        text = join_continuation(text, completion.text)
    return Completion(text=text, finish_reason=completion.finish_reason, usage=completion.usage,
                      provider=completion.provider, model=completion.model,
                      created=completion.created)


async def _converse(persona: Persona, prompt: Prompt, provider: Provider, draft: NoteDraft,
                    continuations: int, on_text: TextCallback) -> tuple[Completion, Prompt]:
    """Hold a conversation persona's whole conversation; the note is assembled from every turn.

    Returns a completion whose text is the assembled note, and the conversation so far (for a
    repair asked within it).
    """
    turns: list[dict[str, str]] = []
    conversation = prompt.with_messages(prompt.messages)
    users = [prompt.messages[-1].content, *prompt.script]
    completion: Completion | None = None
    for index, user in enumerate(users):
        if index:
            conversation = conversation.with_messages(
                (*conversation.messages, Message("assistant", turns[-1]["answer"]),
                 Message("user", user)))
        completion = await _complete_whole(persona, conversation, provider, draft,
                                           continuations, on_text)
        if completion.finish_reason in _REFUSALS or completion.truncated:
            return completion, conversation
        turns.append({"user": user, "answer": completion.text})
    assert completion is not None
    history = conversation.with_messages(
        (*conversation.messages, Message("assistant", turns[-1]["answer"])))
    note = render_note_template(persona, prompt.topic, turns)
    return Completion(text=note, finish_reason=completion.finish_reason, usage=completion.usage,
                      provider=completion.provider, model=completion.model,
                      created=completion.created), history


def _structure_kept(persona: Persona, report: Report) -> bool:
    """Enough of the schema is there that fixing sections beats asking for the whole note."""
    required = [s for s in report.sections if s.required]
    found = sum(1 for s in required if s.found)
    return found >= max(1, (len(required) + 1) // 2)


async def generate_note(persona: Persona, topic: Topic, provider: Provider, attempts: int = 2,
                        *, prompt: Prompt | None = None, on_state: StateCallback | None = None,
                        executor: Executor | None = None, continuations: int = 2,
                        first: Completion | None = None) -> NoteDraft:
    """Ask, validate, and repair up to ``attempts`` answers in all.

    A repair asks only for the failing sections and splices them in while the note's structure
    holds; an answer whose structure is lost is asked for again whole, with the exact problems.
    An answer cut at the output limit is continued up to ``continuations`` times. ``first`` is
    an answer already in hand (from a provider batch): it is validated and repaired online.
    """
    report_state = on_state or (lambda state, size: None)
    report_state("composing", 0)
    prompt = prompt or compose(persona, topic)
    topic_prompt = prompt
    draft = NoteDraft(topic=topic, persona=persona.name, prompt_hash=prompt.prompt_hash)
    loop = asyncio.get_running_loop()
    targets: list[SectionTarget] = []  # the sections a targeted repair asked for
    history = prompt  # a conversation persona's whole conversation, once held
    for attempt in range(1, attempts + 1):
        received = 0
        state = "streaming" if attempt == 1 else "repairing"

        def count(piece: str, state: str = state) -> None:
            nonlocal received
            received += len(piece)
            report_state(state, received)

        report_state(state, 0)
        if attempt == 1 and persona.spec.turns:
            completion, history = await _converse(persona, prompt, provider, draft,
                                                  continuations, count)
            draft.conversation = [{"role": m.role, "content": m.content}
                                  for m in history.messages]
        else:
            completion = await _complete_whole(persona, prompt, provider, draft, continuations,
                                               count, first if attempt == 1 else None)
        report_state("validating", received)
        if completion.finish_reason in _REFUSALS:
            draft.error = f"the model declined to answer (finish reason: {completion.finish_reason})"
            return draft
        if targets:  # a targeted repair: splice the sections into the note we have
            replacements = extract_sections(persona, completion.text, targets)
            body = splice_sections(persona, draft.body, targets, replacements)
            targets = []
        else:
            body = completion.text
        # Parsing and validating a long note is CPU work: keep it off the event loop (in a
        # worker process when the run has a pool, else in a thread).
        draft.body, report = await loop.run_in_executor(executor, check_answer, persona, topic,
                                                        body)
        draft.report = report
        if report.valid and not completion.truncated:
            draft.error = None
            return draft
        draft.error = "the answer was cut off at the token limit" if completion.truncated else None
        if attempt == attempts:
            break
        conversation = persona.spec.turns and not completion.truncated
        if conversation or (_structure_kept(persona, report) and not completion.truncated):
            failing = [i for i, s in enumerate(report.sections) if s.problems]
            targets = targets_for(persona, parse_document(draft.body), failing, report)
            # A conversation is repaired within itself: the sections are asked for after it.
            prompt = ask_for_sections(persona, draft.body, targets, topic_prompt,
                                      history=history if persona.spec.turns else None)
            continue
        problems = report.summary()
        if completion.truncated:
            problems.insert(0, "the answer was cut off at the token limit: keep every section "
                               "more concise so the whole document fits")
        prompt = compose_followup(persona, prompt, completion.text, "repair.md.j2",
                                  problems=problems)
    return draft
