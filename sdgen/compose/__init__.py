"""Stage 1, what is asked: topics from an index, personas (a folder of data: spec, seed,
templates; seeds repaired of their mojibake) and the prompt composed from both."""

from __future__ import annotations

from ._mojibake import FixedText, MojibakeFix, fix_mojibake, looks_mojibaked
from ._personas import Persona, list_personas, load_persona, prompts_root, seeds_root
from ._prompt import (
    CallConfig,
    Message,
    Prompt,
    compose,
    compose_followup,
    estimate_tokens,
    output_budget,
    render_note_template,
    render_template,
    section_lines,
)
from ._sandbox import (
    RENDER_CHARACTERS,
    RENDER_ITEMS,
    RENDER_SECONDS,
    BoundedEnvironment,
    RenderLimitError,
    bounded_render,
)
from ._schema import (
    DIAGRAM_KIND_TEXT,
    REQUIREMENT_TEXT,
    PersonaSpec,
    QuestionSpec,
    RequirementSpec,
    SectionSpec,
)
from ._topics import MAX_TOPIC_LENGTH, Topic, parse_index, read_index, topics_from_args

__all__ = [
    "DIAGRAM_KIND_TEXT",
    "MAX_TOPIC_LENGTH",
    "RENDER_CHARACTERS",
    "RENDER_ITEMS",
    "RENDER_SECONDS",
    "REQUIREMENT_TEXT",
    "BoundedEnvironment",
    "CallConfig",
    "FixedText",
    "Message",
    "MojibakeFix",
    "Persona",
    "PersonaSpec",
    "Prompt",
    "QuestionSpec",
    "RenderLimitError",
    "RequirementSpec",
    "SectionSpec",
    "Topic",
    "bounded_render",
    "compose",
    "compose_followup",
    "estimate_tokens",
    "fix_mojibake",
    "list_personas",
    "load_persona",
    "looks_mojibaked",
    "output_budget",
    "parse_index",
    "prompts_root",
    "read_index",
    "render_note_template",
    "render_template",
    "section_lines",
    "seeds_root",
    "topics_from_args",
]
