"""Compose the messages sent to the model from a persona and a topic.

Templates render in Jinja2's sandbox with strict undefined variables. Topic and question text
only ever enter as values (never as template source), so ``{{ 7*7 }}`` in a topic reaches the
model as those characters.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal

import jinja2

from ..errors import PersonaError
from ..markdown import set_top_level
from ._personas import SPEC_FILE, Persona
from ._sandbox import RENDER_CHARACTERS, BoundedEnvironment, bounded_render
from ._schema import DIAGRAM_KIND_TEXT, REQUIREMENT_TEXT, SectionSpec
from ._topics import Topic

__all__ = [
    "CallConfig",
    "Message",
    "Prompt",
    "compose",
    "compose_followup",
    "estimate_tokens",
    "output_budget",
    "render_note_template",
    "render_template",
    "section_lines",
]

Role = Literal["system", "user", "assistant"]


def estimate_tokens(text: str) -> int:
    """Tokens in a text at four UTF-8 bytes each (rounded up): the one estimate the dry run,
    rate and spending limits, and usage a server did not report all count by. English runs
    near four characters a token; emoji and box-drawing characters (3-4 bytes) about one each,
    so it overestimates most text, as a cap should."""
    return -(-len(text.encode("utf-8", "surrogatepass")) // 4)


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class CallConfig:
    """How one request is sent: resolved once per topic, carried by its prompt to every call
    made for it (continuations, repairs, a conversation's turns)."""

    max_tokens: int = 16000  # the output budget of each call (see output_budget)
    temperature: float | None = None
    calls_per_request: int = 5  # tries of one request under the retry policy, the first included
    timeout: float = 600.0  # seconds per read of the response
    max_wait: float = 60.0  # the longest pause between tries, Retry-After included
    answer_timeout: float = 1800.0  # seconds one answer may take, request to last byte

    @property
    def max_characters(self) -> int:
        """The most text an answer within the output budget can hold, with a wide margin: past
        it, a server is streaming something else (a token is rarely over 4 characters)."""
        return self.max_tokens * 8 + 20_000


def output_budget(max_tokens: int, persona_cap: int | None) -> int:
    """The output budget of a call: the run's, capped by the persona's own (a one-card persona
    needs far fewer tokens than a 13-section document). The one place this is decided."""
    return min(max_tokens, persona_cap) if persona_cap else max_tokens


@dataclass(frozen=True)
class Prompt:
    """The messages for one call, how to send them, and a hash that changes when the messages do."""

    persona: str
    topic: Topic
    messages: tuple[Message, ...]
    config: CallConfig = CallConfig()
    script: tuple[str, ...] = ()  # a conversation's later user turns, sent one by one
    prompt_hash: str = field(default="")

    def __post_init__(self) -> None:
        if not self.prompt_hash:
            payload = json.dumps([[[m.role, m.content] for m in self.messages], self.script],
                                 ensure_ascii=False)
            digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
            object.__setattr__(self, "prompt_hash", digest)

    def with_messages(self, messages: Iterable[Message]) -> Prompt:
        """The same request (persona, topic, budget) with other messages: a conversation's next
        call, a repair, a regeneration."""
        return Prompt(persona=self.persona, topic=self.topic, messages=tuple(messages),
                      config=self.config)

    @property
    def system(self) -> str:
        return "\n\n".join(m.content for m in self.messages if m.role == "system")

    @property
    def chat(self) -> tuple[Message, ...]:
        """Every message but the system ones (Anthropic takes the system prompt apart)."""
        return tuple(m for m in self.messages if m.role != "system")

    @property
    def input_tokens_held(self) -> int:
        """Its input in tokens at four UTF-8 bytes each: what rate and spending limits hold for
        it before the provider has counted, and what a dry run shows (see ``estimate_tokens``)."""
        return estimate_tokens("\n".join(m.content for m in self.messages))


def _environment(persona: Persona) -> BoundedEnvironment:
    return _environment_for(tuple(str(p) for p in persona.template_dirs()))


@lru_cache(maxsize=64)
def _environment_for(template_dirs: tuple[str, ...]) -> BoundedEnvironment:
    # One environment per folder set: Jinja caches compiled templates in it (and checks the
    # files' mtimes, so an edited template is still picked up).
    loader = jinja2.FileSystemLoader(list(template_dirs))
    env = BoundedEnvironment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["requirement_text"] = REQUIREMENT_TEXT
    env.filters["requirement"] = REQUIREMENT_TEXT.__getitem__
    env.filters["diagram_kind"] = lambda kind: DIAGRAM_KIND_TEXT.get(kind, f"a Mermaid {kind} diagram")
    env.filters["top_level"] = set_top_level
    env.filters["quote"] = lambda text: "\n".join(
        f"> {line}".rstrip() for line in str(text).strip().split("\n"))
    return env


def _where(exc: BaseException, persona: Persona, name: str) -> str:
    """The template file and line an error came from, as far as the traceback tells (Jinja
    rewrites its frames to the templates' own files and lines)."""
    where = f"{persona.folder / name}"
    trace = exc.__traceback__
    while trace is not None:
        filename = trace.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            where = f"{filename}:{trace.tb_lineno}"
        trace = trace.tb_next
    return where


def render_template(persona: Persona, name: str, **values: object) -> str:
    """Render one of the persona's templates, within the sandbox's bounds (time, loop turns,
    size: see :mod:`sdgen.sandbox`); any error is one line naming the file and, where known,
    the line."""
    env = _environment(persona)
    try:
        template = env.get_template(name)
        return bounded_render(template, persona=persona.spec, **values).strip() + "\n"
    except jinja2.TemplateNotFound as exc:
        raise PersonaError(f"{persona.folder}: template {exc.name!r} not found") from exc
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or name
        raise PersonaError(f"{where}:{exc.lineno}: template syntax error: {exc.message}") from exc
    except jinja2.TemplateError as exc:  # undefined names, runtime errors, sandbox refusals
        raise PersonaError(f"{_where(exc, persona, name)}: template error: {exc.message}") from exc
    except RecursionError as exc:
        raise PersonaError(f"{_where(exc, persona, name)}: template error: it recurses without "
                           "end (a macro or include that calls itself?)") from exc
    except MemoryError as exc:
        raise PersonaError(f"{_where(exc, persona, name)}: template error: out of memory") from exc
    except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError) as exc:
        # A template's own expression failing (a filter given the wrong type...): one line.
        raise PersonaError(f"{_where(exc, persona, name)}: template error: "
                           f"{type(exc).__name__}: {exc}") from exc


def seed_for(persona: Persona, topic: Topic) -> str:
    """The repaired seed with its placeholders filled (plain replacement, not templating)."""
    question = topic.question or persona.spec.default_question.replace("{topic}", topic.title)
    values = {"topic": topic.title, "question": question}
    text = persona.seed_text
    for placeholder, kind in persona.spec.placeholders.items():
        # A placeholder found thousands of times (a common word) would repeat the topic as often.
        size = len(text) + text.count(placeholder) * (len(values[kind]) - len(placeholder))
        if size > RENDER_CHARACTERS:
            raise PersonaError(f"{persona.folder / SPEC_FILE}: placeholder {placeholder!r} "
                               f"would make the seed {size:,} characters long (the limit is "
                               f"{RENDER_CHARACTERS:,})")
        text = text.replace(placeholder, values[kind])
    return text


def seed_section_finder(seed: str, persona: Persona) -> Callable[[str], str]:
    """A template helper: the `##` part of the seed whose heading contains a phrase."""
    parts = re.split(r"(?m)^(?=## )", seed)

    def seed_section(phrase: str) -> str:
        for part in parts:
            heading = part.split("\n", 1)[0]
            if part.startswith("## ") and phrase.casefold() in heading.casefold():
                return part.split("\n", 1)[1].strip() if "\n" in part else ""
        raise PersonaError(f"{persona.folder}: the seed has no '## ' section matching {phrase!r}")

    return seed_section


def section_lines(sections: tuple[SectionSpec, ...], numbered: bool) -> list[str]:
    """The headings as the contract asks for them, numbered when the persona numbers them."""
    return [
        f"{i}. {s.heading}" if numbered else s.heading for i, s in enumerate(sections, start=1)
    ]


def compose(persona: Persona, topic: Topic, config: CallConfig | None = None) -> Prompt:
    """The system and user messages for one topic, sent with the run's call config (its output
    budget capped by the persona's)."""
    config = config or CallConfig()
    spec = persona.spec
    seed = seed_for(persona, topic)
    values = {
        "topic": topic.title,
        "question": topic.question or "",
        "context": topic.context or "",
        "category": topic.category or "",
        "seed": seed,
        "seed_section": seed_section_finder(seed, persona),
        "sections": spec.sections,
        "headings": section_lines(spec.sections, spec.numbered),
    }
    system = render_template(persona, "system.md.j2", **values)
    user = render_template(persona, "user.md.j2", **values)
    script = tuple(render_template(persona, turn, **values) for turn in spec.turns)
    return Prompt(
        persona=spec.name,
        topic=topic,
        messages=(Message("system", system), Message("user", user)),
        config=replace(config, max_tokens=output_budget(config.max_tokens, spec.max_tokens)),
        script=script,
    )


def render_note_template(persona: Persona, topic: Topic, turns: list[dict[str, str]]) -> str:
    """A conversation's note, assembled from every turn by the persona's note template."""
    return render_template(persona, persona.spec.note_template, topic=topic.title,
                           context=topic.context or "", turns=turns)


def compose_followup(persona: Persona, prompt: Prompt, answer: str, template: str,
                     **values: object) -> Prompt:
    """Continue a conversation: the model's answer, then a follow-up rendered from a template."""
    spec = persona.spec
    text = render_template(
        persona, template, topic=prompt.topic.title, sections=spec.sections,
        headings=section_lines(spec.sections, spec.numbered), **values,
    )
    return prompt.with_messages((*prompt.messages, Message("assistant", answer),
                                 Message("user", text)))
