"""The one repair loop every caller uses: generate, regen, chat and batch collect.

    first answer ──► validate ──► valid and whole? ──► the note
                        │
                        ├─ structure kept (or a regen, or a conversation)
                        │     └─► ask for the failing sections, splice them in ──┐
                        ├─ structure lost, or the answer was cut off             │
                        │     └─► ask again for the whole document ──────────────┤
                        └─ out of answers ──► AnswerRejectedError(last answer)   │
                                        ▲                                        │
                                        └────────────────────────────────────────┘

Every call the loop makes is continued while the provider stops it at the output limit
(``continuations`` follow-ups). How the first answer is had is the caller's: one call
(generate), an answer from a provider batch (collect), the persona's scripted conversation
(generate with a conversation persona), a person holding that conversation (chat), or a
request for some sections of a note on disk (regen).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from ..check import DEFAULT_OPTIONS, Report, ValidationOptions, validate_document
from ..compose import Message, Persona, Prompt, Topic, compose_followup, render_note_template
from ..errors import AnswerRejectedError
from ..markdown import answer_front_matter, parse_document
from ..providers import Completion, Provider, TextCallback
from ._draft import NoteDraft
from ._job import AnswerPolicy, TopicJob
from ._sections import (
    SectionTarget,
    ask_for_sections,
    extract_sections,
    splice_sections,
    targets_for,
)

__all__ = [
    "Answer",
    "FirstAnswer",
    "StateCallback",
    "ask_with",
    "assembled",
    "check_answer",
    "complete_continued",
    "converse",
    "join_continuation",
    "refine",
    "scripted_first_answer",
    "with_answer",
]

_REFUSALS = {"content_filter", "refusal"}
_CUT = ("the answer was cut off at the output limit: keep every section more concise so the "
        "whole document fits")

StateCallback = Callable[[str, int], None]  # (state, characters streamed so far)


@dataclass(frozen=True)
class Answer:
    """One answer as the loop takes it: its completion (the text joined over continuations),
    and the conversation that led to it (a repair within a conversation continues it)."""

    completion: Completion
    history: Prompt


# How the first answer is had: given the streamed-text callback, return it.
FirstAnswer = Callable[[TextCallback], Awaitable[Answer]]


def check_answer(persona: Persona, topic: Topic, answer: str, raw_answer: bool = True,
                 options: ValidationOptions = DEFAULT_OPTIONS) -> tuple[str, Report]:
    """The document inside an answer, with a level-1 title, and its validation report.

    ``raw_answer=False`` takes the text as a note body, byte for byte (regen)."""
    doc = parse_document(answer, raw_answer=raw_answer)
    body = doc.body
    if raw_answer and not any(h.level == 1 for h in doc.headings[:1]):
        body = f"# {topic.title}\n\n{body}"
        doc = parse_document(body)
    return body, validate_document(doc, persona.spec, options, topic)


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


async def complete_continued(persona: Persona, prompt: Prompt, provider: Provider,
                             draft: NoteDraft, continuations: int, on_text: TextCallback | None,
                             first: Completion | None = None) -> Completion:
    """One answer (``first`` when it is already in hand), continued while the provider stops it
    at the output limit; every call is added to the draft."""
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


async def converse(persona: Persona, prompt: Prompt, users: Sequence[str], provider: Provider,
                   draft: NoteDraft, continuations: int, on_text: TextCallback | None,
                   ) -> tuple[list[dict[str, str]], Prompt, Completion]:
    """Hold a conversation: each user turn in order, each answer continued when cut.

    Returns the turns held, the whole conversation, and the last answer (a refusal or a cut
    answer ends it early)."""
    turns: list[dict[str, str]] = []
    conversation = prompt
    completion: Completion | None = None
    for index, user in enumerate(users):
        if index:
            conversation = conversation.with_messages(
                (*conversation.messages, Message("assistant", turns[-1]["answer"]),
                 Message("user", user)))
        completion = await complete_continued(persona, conversation, provider, draft,
                                              continuations, on_text)
        if completion.finish_reason in _REFUSALS or completion.truncated:
            return turns, with_answer(conversation, completion), completion
        turns.append({"user": user, "answer": completion.text})
    assert completion is not None, "a conversation has at least one turn"
    return turns, with_answer(conversation, completion), completion


def assembled(persona: Persona, topic: Topic, turns: list[dict[str, str]],
              last: Completion) -> Completion:
    """A conversation's note, assembled from every turn, as the loop's answer."""
    note = render_note_template(persona, topic, turns)
    return Completion(text=note, finish_reason=last.finish_reason, usage=last.usage,
                      provider=last.provider, model=last.model, created=last.created)


def scripted_first_answer(job: TopicJob, provider: Provider, draft: NoteDraft,
                          policy: AnswerPolicy, given: Completion | None = None) -> FirstAnswer:
    """The first answer of ``generate`` and ``batch collect``: one call (or ``given``, from a
    provider batch), or a conversation persona's whole scripted conversation."""
    persona, prompt = job.persona, job.prompt

    async def first(on_text: TextCallback) -> Answer:
        if not persona.spec.turns:
            completion = await complete_continued(persona, prompt, provider, draft,
                                                  policy.continuations, on_text, given)
            return Answer(completion, with_answer(prompt, completion))
        users = [prompt.messages[-1].content, *prompt.script]
        turns, history, last = await converse(persona, prompt.with_messages(prompt.messages),
                                              users, provider, draft, policy.continuations,
                                              on_text)
        draft.conversation = [{"role": m.role, "content": m.content} for m in history.messages]
        if len(turns) < len(users):  # refused or cut: the loop decides what to do with it
            return Answer(last, history)
        return Answer(assembled(persona, job.topic, turns, last), history)

    return first


def _structure_kept(report: Report) -> bool:
    """Enough of the schema is there that fixing sections beats asking for the whole note."""
    required = [s for s in report.sections if s.required]
    found = sum(1 for s in required if s.found)
    return found >= max(1, (len(required) + 1) // 2)


def _problems(report: Report, scope: set[int] | None, missing: Sequence[str]) -> list[str]:
    """What still stands between this answer and a note (only the sections in scope count)."""
    if scope is None:
        return report.summary() + [f"{title}: the reply did not contain this section"
                                   for title in missing]
    return [f"{s.title}: {p}" for i, s in enumerate(report.sections) if i in scope
            for p in s.problems] + [f"{t}: the reply did not contain this section" for t in missing]


def _next_targets(persona: Persona, draft: NoteDraft, report: Report, scope: set[int] | None,
                  missing: Sequence[str], truncated: bool) -> list[SectionTarget]:
    """The sections a targeted repair asks for, each with what was wrong with it."""
    failing = [i for i in report.failing if scope is None or i in scope]
    failing += [i for i, s in enumerate(persona.spec.sections)
                if s.title in missing and i not in failing]
    doc = parse_document(draft.body)
    if not failing and truncated:  # every section validates, but the last one was cut short
        found = [i for i, s in enumerate(report.sections) if s.found]
        failing = found[-1:] or [len(persona.spec.sections) - 1]
    targets = targets_for(persona, doc, sorted(set(failing)), report)
    if truncated:
        targets = [SectionTarget(t.index, t.title, t.heading_line, (*t.problems, _CUT))
                   for t in targets]
    return targets


async def refine(job: TopicJob, provider: Provider, policy: AnswerPolicy, first: FirstAnswer,
                 draft: NoteDraft, *, base: str | None = None,
                 targets: Sequence[SectionTarget] = (), instructions: str | None = None,
                 on_state: StateCallback | None = None,
                 executor: Executor | None = None) -> NoteDraft:
    """Validate and repair until the note is valid and whole, within ``answers_per_topic``.

    With ``base`` (a note's body) the first answer holds only the ``targets`` sections, which
    are spliced into it, and only those sections must come out valid. Raises
    AnswerRejectedError, carrying the last answer in ``draft``, when no answer will do.
    """
    persona, topic = job.persona, job.topic
    state_of = on_state or (lambda state, size: None)
    scope = {t.index for t in targets} if base is not None else None
    body, pending = base or "", list(targets)
    ask, loop = first, asyncio.get_running_loop()
    for number in range(1, policy.answers_per_topic + 1):
        state, received = ("streaming" if number == 1 else "repairing"), 0

        def count(piece: str, state: str = state) -> None:
            nonlocal received
            received += len(piece)
            state_of(state, received)

        # Until the request has a slot (or its first text), the topic is waiting, not streaming.
        state_of("waiting", 0)
        answer = await ask(count)
        completion = answer.completion
        state_of("validating", received)
        if completion.finish_reason in _REFUSALS:
            draft.body = draft.body or completion.text
            draft.error = f"the model declined to answer (finish reason: {completion.finish_reason})"
            raise AnswerRejectedError(f"{topic.title}: {draft.error}", draft)
        missing: list[str] = []
        if pending:  # a targeted answer: splice its sections into the note we have
            found = extract_sections(persona, completion.text, pending)
            missing = [t.title for t in pending if t.index not in found]
            body = splice_sections(persona, draft.body or body, pending, found)
        else:
            body = completion.text
            draft.answer_meta = answer_front_matter(completion.text) or draft.answer_meta
        # Parsing and validating a long note is CPU work: keep it off the event loop (in a
        # worker process when the run has a pool, else in a thread).
        draft.body, report = await loop.run_in_executor(
            executor, check_answer, persona, topic, body, base is None, policy.validation)
        draft.report = report
        problems = _problems(report, scope, missing)
        if not problems and not completion.truncated:
            draft.error = None
            if scope is not None:  # regen: the sections asked for are valid; that is the bar
                draft.report = report.model_copy(update={"valid": True})
            return draft
        if number == policy.answers_per_topic:
            break
        # An answer about another topic, cut short, or with its structure lost is asked for
        # again whole; otherwise only the failing sections are.
        whole = (scope is None and not persona.spec.turns
                 and (completion.truncated or not _structure_kept(report)
                      or "topic" in report.kinds()))
        if whole:  # shown the document as it stands, asked for all of it again
            pending = []
            request = compose_followup(persona, job.prompt, draft.body, "repair.md.j2",
                                       problems=[_CUT, *problems] if completion.truncated
                                       else problems)
        else:
            pending = _next_targets(persona, draft, report, scope, missing, completion.truncated)
            # Within a conversation (or after a regen's request) the repair continues it;
            # otherwise the persona's system prompt and the note, then the request.
            within = persona.spec.turns or base is not None
            request = ask_for_sections(persona, draft.body, pending, job.prompt, instructions,
                                       history=answer.history if within else None)
        ask = ask_with(persona, request, provider, draft, policy.continuations)
    reasons = "; ".join(([_CUT] if completion.truncated else []) + problems[:3])
    draft.error = reasons or "no valid answer"
    raise AnswerRejectedError(f"{topic.title}: no valid answer in {policy.answers_per_topic} "
                              f"answer(s): {draft.error}", draft)


def ask_with(persona: Persona, request: Prompt, provider: Provider, draft: NoteDraft,
             continuations: int) -> FirstAnswer:
    """A request (a repair, or a regen's request for sections) as the loop's next answer."""
    async def ask(on_text: TextCallback) -> Answer:
        completion = await complete_continued(persona, request, provider, draft, continuations,
                                              on_text)
        return Answer(completion, with_answer(request, completion))

    return ask


def with_answer(prompt: Prompt, completion: Completion) -> Prompt:
    """The conversation so far: a request and the answer it got."""
    return prompt.with_messages((*prompt.messages, Message("assistant", completion.text)))
