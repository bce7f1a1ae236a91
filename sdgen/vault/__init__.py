"""Stage 5, the output folder as an Obsidian vault: note files (named, hashed, written
atomically, a person's edits kept), indexes, and links between notes."""

from __future__ import annotations

from ._drafts import DRAFTS, rescue_answer
from ._front_matter import (
    body_hash,
    front_matter_block,
    is_edited,
    public_url,
    render_note,
    user_property_lines,
)
from ._indexes import (
    HOME_TITLE,
    INDEX_TAG,
    NoteRecord,
    home_note,
    listed_notes,
    notes_in,
    update_index,
    vault_root,
    write_home,
    write_index,
)
from ._links import LinkReport, link_text, link_vault
from ._names import VaultNote, read_vault
from ._notes import (
    INDEX_NOTE,
    Note,
    TopicOutcome,
    conversation_path,
    input_hash,
    note_path,
    on_disk,
    read_note,
    read_note_text,
    recorded_input_hash,
    save_note,
    save_regenerated,
    split_note,
    walk_notes,
)
from ._obsidian import ADMONITION_TYPES, Converted, LinkTargets, path_endings, to_python_markdown

__all__ = [
    "ADMONITION_TYPES",
    "DRAFTS",
    "HOME_TITLE",
    "INDEX_NOTE",
    "INDEX_TAG",
    "Converted",
    "LinkReport",
    "LinkTargets",
    "Note",
    "NoteRecord",
    "TopicOutcome",
    "VaultNote",
    "body_hash",
    "conversation_path",
    "front_matter_block",
    "home_note",
    "input_hash",
    "is_edited",
    "link_text",
    "link_vault",
    "listed_notes",
    "note_path",
    "notes_in",
    "on_disk",
    "path_endings",
    "public_url",
    "read_note",
    "read_note_text",
    "read_vault",
    "recorded_input_hash",
    "render_note",
    "rescue_answer",
    "save_note",
    "save_regenerated",
    "split_note",
    "to_python_markdown",
    "update_index",
    "user_property_lines",
    "vault_root",
    "walk_notes",
    "write_home",
    "write_index",
]
