"""Stage 4, the one refine loop: an answer validated, its failing sections asked for
again (or the whole answer), continued when cut, until it is a note or a draft."""

from __future__ import annotations

from ._draft import NoteDraft
from ._job import AnswerPolicy, TopicJob, answer_policy, call_config, validation_options
from ._refine import (
    Answer,
    FirstAnswer,
    StateCallback,
    ask_with,
    assembled,
    check_answer,
    complete_continued,
    converse,
    join_continuation,
    refine,
    scripted_first_answer,
    with_answer,
)
from ._sections import (
    SectionTarget,
    ask_for_sections,
    closest_section,
    extract_sections,
    find_section,
    splice_sections,
    targets_for,
)

__all__ = [
    "Answer",
    "AnswerPolicy",
    "FirstAnswer",
    "NoteDraft",
    "SectionTarget",
    "StateCallback",
    "TopicJob",
    "answer_policy",
    "ask_for_sections",
    "ask_with",
    "assembled",
    "call_config",
    "check_answer",
    "closest_section",
    "complete_continued",
    "converse",
    "extract_sections",
    "find_section",
    "join_continuation",
    "refine",
    "scripted_first_answer",
    "splice_sections",
    "targets_for",
    "validation_options",
    "with_answer",
]
