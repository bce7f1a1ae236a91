"""`sdgen chat`: a person holds the interview conversation; sdgen keeps it as a validated note.

The model's clarifying questions stream to the terminal; the person answers over as many turns
as they like and ends with "That's all"; the design that follows is assembled with the questions,
the answers given and the context summary, then goes through the same repair loop and note
writer as a batch run (each turn continued when cut at the output limit, failing sections asked
for again within the conversation).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ..compose import Message
from ..errors import AnswerRejectedError, PersonaError
from ..providers import Completion, Provider, TextCallback
from ..repair import (
    Answer,
    AnswerPolicy,
    FirstAnswer,
    NoteDraft,
    TopicJob,
    assembled,
    complete_continued,
    refine,
    with_answer,
)
from ..vault import TopicOutcome, input_hash, link_vault, save_note, update_index, write_home

__all__ = ["ChatIO", "run_chat"]

_DONE = re.compile(r"^\s*that'?s\s+all\b[.!]?\s*$", re.IGNORECASE)


@dataclass
class ChatIO:
    """Where the conversation is read from and shown."""

    ask: Callable[[str], str | None]  # shows a prompt, returns a line (None at end of input)
    out: TextIO


def _held_by_a_person(job: TopicJob, provider: Provider, io: ChatIO, draft: NoteDraft,
                      policy: AnswerPolicy) -> FirstAnswer:
    """The conversation as the loop's first answer: the model's questions, the person's
    answers until "That's all", then the design, assembled into the note."""
    persona, prompt = job.persona, job.prompt

    def show(piece: str) -> None:
        io.out.write(piece)
        io.out.flush()

    async def say(messages: list[Message]) -> Completion:
        completion = await complete_continued(persona, prompt.with_messages(messages), provider,
                                              draft, policy.continuations, show)
        io.out.write("\n" if completion.text.endswith("\n") else "\n\n")
        messages.append(Message("assistant", completion.text))
        return completion

    async def held(on_text: TextCallback) -> Answer:
        messages = list(prompt.messages)
        first = await say(messages)
        given: list[str] = []
        summary = ""
        while (line := io.ask("you> ")) is not None and not _DONE.match(line):
            if line.strip():
                given.append(line.strip())
                messages.append(Message("user", line.strip()))
                summary = (await say(messages)).text
        done_text = prompt.script[-1] if prompt.script else "That's all."
        messages.append(Message("user", done_text))
        design = await say(messages)
        draft.conversation = [{"role": m.role, "content": m.content} for m in messages]
        turns = [{"user": prompt.messages[-1].content, "answer": first.text},
                 {"user": "\n\n".join(given) or "(no further context: the model made assumptions)",
                  "answer": summary},
                 {"user": done_text, "answer": design.text}]
        return Answer(assembled(persona, job.topic, turns, design),
                      with_answer(prompt.with_messages(messages[:-1]), design))

    return held


async def run_chat(job: TopicJob, provider: Provider, out: Path, io: ChatIO,
                   policy: AnswerPolicy | None = None) -> TopicOutcome:
    """Hold the conversation, then write the note (or keep it as a draft when invalid)."""
    policy = policy or AnswerPolicy()
    if not job.persona.spec.turns:
        raise PersonaError(f"persona {job.persona.name!r} has no conversation; chat needs one "
                           "such as 'interview'")
    draft = NoteDraft(job.topic, job.persona.name, job.prompt.prompt_hash)

    def tell(state: str, received: int) -> None:
        if state == "repairing" and not received:
            io.out.write("(fixing the sections that do not meet the schema yet...)\n")

    with contextlib.suppress(AnswerRejectedError):  # an invalid note is kept as a draft
        await refine(job, provider, policy, _held_by_a_person(job, provider, io, draft, policy),
                     draft, on_state=tell)
    digest = input_hash(job.prompt, job.persona.spec, provider.name, provider.model)
    outcome = save_note(out, job.path, draft, digest)
    if outcome.status == "written":
        link_vault(out)
        update_index(out / job.path.relative_to(out).parts[0], job.persona.name)
        write_home(out)
    return outcome
