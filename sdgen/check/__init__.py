"""Stage 3, is the answer a note: the persona's schema, the seed's requirements and
Mermaid's own parser, as a Report of findings by section and line."""

from __future__ import annotations

from ._content import (
    Misalignment,
    TableMismatch,
    acronyms_used,
    box_misalignments,
    has_term,
    names_topic,
    prose,
    table_mismatches,
    topic_key,
    unanswered,
)
from ._diagrams import (
    BUNDLE,
    MERMAID_DIR,
    DiagramCheckUnavailableError,
    Verdict,
    check_mermaid,
    engine_version,
    ensure_engine,
    friendly_kind,
)
from ._requirements import (
    CheckedReport,
    Checklist,
    RequirementResult,
    checklist,
    validate_document,
)
from ._validate import (
    DEFAULT_OPTIONS,
    DiagramFindings,
    LocatedSection,
    Problem,
    Report,
    SectionReport,
    ValidationOptions,
    check_diagrams,
    locate_sections,
    match_section,
)

__all__ = [
    "BUNDLE",
    "DEFAULT_OPTIONS",
    "MERMAID_DIR",
    "CheckedReport",
    "Checklist",
    "DiagramCheckUnavailableError",
    "DiagramFindings",
    "LocatedSection",
    "Misalignment",
    "Problem",
    "Report",
    "RequirementResult",
    "SectionReport",
    "TableMismatch",
    "ValidationOptions",
    "Verdict",
    "acronyms_used",
    "box_misalignments",
    "check_diagrams",
    "check_mermaid",
    "checklist",
    "engine_version",
    "ensure_engine",
    "friendly_kind",
    "has_term",
    "locate_sections",
    "match_section",
    "names_topic",
    "prose",
    "table_mismatches",
    "topic_key",
    "unanswered",
    "validate_document",
]
