"""`sdgen chat`: a person holds the interview conversation; sdgen keeps it as a validated note.

The model's clarifying questions stream to the terminal; the person answers over as many turns
as they like and ends with "That's all"; the design that follows is assembled with the questions,
the answers given and the context summary, validated and written exactly as a batch run does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .compose import Message, Prompt, compose, render_note_template
from .errors import PersonaError
from .markdown import parse_document, split_front_matter
from .personas import Persona
from .pipeline import NoteDraft, check_answer
from .providers.base import Completion, Provider
from .runner import RunOptions, TopicOutcome, finish_note, input_hash
from .sections import ask_for_sections, extract_sections, splice_sections, targets_for
from .topics import Topic
from .write import NoteRecord, note_path, write_index

__all__ = ["ChatIO", "run_chat"]

_DONE = re.compile(r"^\s*that'?s\s+all\b[.!]?\s*$", re.IGNORECASE)


@dataclass
class ChatIO:
    """Where the conversation is read from and shown."""

    ask: Callable[[str], str | None]  # shows a prompt, returns a line (None at end of input)
    out: TextIO


async def _say(provider: Provider, conversation: Prompt, io: ChatIO,
               draft: NoteDraft) -> Completion:
    def show(piece: str) -> None:
        io.out.write(piece)
        io.out.flush()

    completion = await provider.complete(conversation, show)
    io.out.write("\n" if completion.text.endswith("\n") else "\n\n")
    draft.completions.append(completion)
    return completion


async def run_chat(persona: Persona, title: str, provider: Provider, out: Path, io: ChatIO,
                   attempts: int = 2) -> TopicOutcome:
    """Hold the conversation, then write the note (or keep it as a draft when invalid)."""
    if not persona.spec.turns:
        raise PersonaError(f"persona {persona.name!r} has no conversation; chat needs one "
                           "such as 'interview'")
    topic = Topic(title)
    prompt = compose(persona, topic)
    draft = NoteDraft(topic=topic, persona=persona.name, prompt_hash=prompt.prompt_hash)
    messages = list(prompt.messages)
    first = await _say(provider, prompt, io, draft)
    messages.append(Message("assistant", first.text))
    given: list[str] = []
    summary = ""
    while True:
        line = io.ask("you> ")
        if line is None or _DONE.match(line):
            break
        if not line.strip():
            continue
        given.append(line.strip())
        messages.append(Message("user", line.strip()))
        reply = await _say(provider, _conversation(prompt, messages), io, draft)
        summary = reply.text
        messages.append(Message("assistant", reply.text))
    done_text = prompt.script[-1] if prompt.script else "That's all."
    messages.append(Message("user", done_text))
    design = await _say(provider, _conversation(prompt, messages), io, draft)
    messages.append(Message("assistant", design.text))
    turns = [{"user": prompt.messages[-1].content, "answer": first.text},
             {"user": "\n\n".join(given) or "(no further context: the model made assumptions)",
              "answer": summary},
             {"user": done_text, "answer": design.text}]
    draft.body, draft.report = check_answer(persona, topic,
                                            render_note_template(persona, topic, turns))
    for _ in range(attempts - 1):
        if draft.report.valid:
            break
        failing = [i for i, s in enumerate(draft.report.sections) if s.problems]
        targets = targets_for(persona, parse_document(draft.body), failing, draft.report)
        repair = ask_for_sections(persona, draft.body, targets, prompt,
                                  history=_conversation(prompt, messages))
        fixed = await _say(provider, repair, io, draft)
        body = splice_sections(persona, draft.body, targets,
                               extract_sections(persona, fixed.text, targets))
        draft.body, draft.report = check_answer(persona, topic, body)
    draft.conversation = [{"role": m.role, "content": m.content} for m in messages]
    path = note_path(out, persona.name, None, title)
    digest = input_hash(prompt, persona, provider, RunOptions())
    outcome = finish_note(out, path, draft, digest, {})
    if outcome.status == "written":
        write_index(path.parent, persona.name, [NoteRecord(path, title, None), *_existing(path.parent, path)])
    return outcome


def _conversation(prompt: Prompt, messages: list[Message]) -> Prompt:
    return prompt.with_messages(messages)


def _existing(folder: Path, skip: Path) -> list[NoteRecord]:
    """Notes already in the persona folder stay in its index."""
    records = []
    for note in sorted(folder.rglob("*.md")):
        if note.name == "index.md" or note == skip:
            continue
        meta, _, _ = split_front_matter(note.read_text(encoding="utf-8", errors="replace"))
        records.append(NoteRecord(note, str(meta.get("title", note.stem)), meta.get("category")))
    return records
