"""Front matter: its one layout, the properties sdgen writes, the user's own, and their hashes.

Every note sdgen writes has its front matter laid out here (:func:`note_front_matter`, written
by :func:`front_matter_block` as mdformat would lay it out). Its ``body_hash`` says what sdgen
wrote and its ``properties_hash`` what the user's own properties were then: a note that no
longer matches either was edited by hand.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Mapping
from typing import Any

import yaml

from .._files import safe_segment
from .._version import __version__
from ..check import acronyms_used, checklist
from ..markdown import format_markdown, split_front_matter
from ..repair import NoteDraft

__all__ = [
    "OWNED_PROPERTIES",
    "body_hash",
    "front_matter_block",
    "is_edited",
    "note_front_matter",
    "properties_edited",
    "properties_hash",
    "public_url",
    "render_note",
    "user_properties",
    "user_property_lines",
]


# Hashes.

def body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


def is_edited(meta: Mapping[str, Any], body: str) -> bool:
    """True when a body no longer matches the ``body_hash`` written with it."""
    recorded = meta.get("body_hash")
    return bool(recorded) and recorded != body_hash(body)


def properties_edited(meta: Mapping[str, Any]) -> bool:
    """True when the user's own properties are not those sdgen last wrote the note with (a
    property added, changed or removed by hand)."""
    return meta.get("properties_hash") != properties_hash(meta)


# Layout.

class _FrontMatterDumper(yaml.SafeDumper):
    """YAML laid out as mdformat's front-matter plugin lays it out (lists indented under their
    key, no line folding, null as nothing), so formatting a note changes no byte of it; and ten
    times faster than passing it through the plugin."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


_FrontMatterDumper.add_representer(
    type(None), lambda dumper, _: dumper.represent_scalar("tag:yaml.org,2002:null", ""))


def front_matter_block(meta: Mapping[str, Any], kept: str = "") -> str:
    """YAML front matter, written the same way wherever sdgen writes or rewrites it; ``kept``
    (the user's own properties, as :func:`user_property_lines` cut them) follows as written."""
    header = yaml.dump(dict(meta), Dumper=_FrontMatterDumper, sort_keys=False,
                       allow_unicode=True, width=sys.maxsize) if meta else ""
    return f"---\n{header}{kept}---\n\n"


# The user's own properties. Any key of a note's front matter that sdgen does not write is a
# person's (Obsidian's properties panel adds them): it survives every rewrite as its lines were
# written, comments and block scalars included, and a change to it is a hand edit.

OWNED_PROPERTIES = frozenset({
    "title", "aliases", "topic", "category", "question", "context", "persona", "provider",
    "base_url", "model", "created", "input_tokens", "output_tokens", "sdgen_version",
    "prompt_hash", "input_hash", "tags", "body_hash", "properties_hash", "regenerated",
    "model_aliases", "checks", "draft",
})


def user_properties(meta: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in meta.items() if k not in OWNED_PROPERTIES}


def properties_hash(meta: Mapping[str, Any]) -> str | None:
    """What the user's own properties were when sdgen last wrote the note (None: it has none)."""
    theirs = user_properties(meta)
    if not theirs:
        return None
    canonical = json.dumps(theirs, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def user_property_lines(block: str) -> str:
    """The source lines of the user's own properties in a front matter block (``---`` lines
    included or not), each with the comments and blank lines after it, in their order; "" when
    there are none or the YAML does not read."""
    inner = block.strip("\n")
    if inner.startswith("---"):
        inner = inner[3:].lstrip(" \t").removeprefix("\n")
    if inner.rstrip().endswith("---"):
        inner = inner.rstrip()[:-3]
    lines = inner.split("\n")
    # Cheap first: only a block with a top-level key sdgen does not own needs the YAML read.
    keys = [line.split(":", 1)[0].strip("'\" ") for line in lines
            if line and not line[0].isspace() and line[0] not in "#-" and ":" in line]
    if all(key in OWNED_PROPERTIES for key in keys):
        return ""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="rt", pure=True).load(inner)
    except YAMLError:
        return ""
    if not isinstance(data, CommentedMap):
        return ""
    starts = sorted((data.lc.key(key)[0], str(key)) for key in data)  # each key's first line
    kept: list[str] = []
    for n, (start, key) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        if key not in OWNED_PROPERTIES:
            kept += lines[start:end]
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept) + "\n" if kept else ""


def render_note(body: str, front_matter: Mapping[str, Any], kept: str = "") -> str:
    """Front matter plus formatted body; formatting the result again changes nothing. ``kept``:
    the user's own properties of the note this one replaces, carried over as written."""
    formatted = format_markdown(body)
    meta = {**front_matter, "body_hash": body_hash(formatted)}
    if kept:
        theirs = split_front_matter(f"---\n{kept}---\n")[0]
        meta["properties_hash"] = properties_hash(theirs)
    return front_matter_block(meta, kept) + formatted


# What sdgen writes.

def public_url(url: str | None) -> str | None:
    """A server's URL as a note may keep it: no ``user:password@``, query or fragment (a key
    is sometimes passed in one). None for no URL, or one that does not read as one."""
    if not url:
        return None
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc += f":{parts.port}"
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not host:
        return None
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def obsidian_tag(text: str) -> str | None:
    """A tag as Obsidian accepts it: no '#', no spaces, only letters, digits, _ - and /, not
    only digits. None when nothing of it is left."""
    tag = re.sub(r"\s+", "-", str(text).strip().lstrip("#").strip())
    tag = re.sub(r"[^\w/-]", "", tag).strip("/-")
    tag = re.sub(r"-{2,}", "-", re.sub(r"/{2,}", "/", tag))
    return tag if tag and not tag.isdigit() else None


def _names(values: Any) -> list[str]:
    """A front matter list (or one string, its names apart at commas, as models write
    ``aliases: Rate Limiter, Throttler``) as clean one-line names."""
    items = values if isinstance(values, list) else values.split(",") if isinstance(values, str) else []
    names = [" ".join(str(v).split()) for v in items if isinstance(v, str | int | float)]
    return [n for n in names if n and len(n) <= 200]


def _merged(values: list[str]) -> list[str]:
    """Each value once (case-insensitively), the first spelling kept, in order."""
    seen: set[str] = set()
    kept = []
    for value in values:
        if value.casefold() not in seen:
            seen.add(value.casefold())
            kept.append(value)
    return kept


def note_front_matter(draft: NoteDraft, digest: str) -> dict[str, Any]:
    """The front matter of every note sdgen writes, in this order. ``aliases`` holds the topic's
    title, its aliases from the index and the model's own; ``tags`` sdgen's and the model's,
    made valid Obsidian tags."""
    last = draft.completions[-1]
    category = draft.topic.category
    tags = ["system-design", f"persona/{safe_segment(draft.persona)}"]
    if category:
        tags.append(f"category/{safe_segment(category)}")
    theirs = draft.answer_meta
    tags += [t for t in map(obsidian_tag, _names(theirs.get("tags"))) if t]
    ours = [draft.topic.title, *draft.topic.aliases]
    acronyms = acronyms_used(draft.topic.title, draft.body)
    known = {n.casefold() for n in (*ours, *acronyms)}
    by_model = [n for n in _names(theirs.get("aliases")) if n.casefold() not in known]
    aliases = _merged([*ours, *by_model, *acronyms])
    meta: dict[str, Any] = {
        "title": draft.topic.title,
        "aliases": aliases,
        # The aliases the model gave, apart: linking holds them to rules the index's are not
        # (written whenever there are aliases beyond the title; absent: a note from before).
        "model_aliases": _merged(by_model) if len(aliases) > 1 else None,
        "topic": draft.topic.title,
        "category": category,
        "question": draft.topic.question,
        "context": draft.topic.context,
        "persona": draft.persona,
        "provider": last.provider,
        "base_url": draft.base_url,
        "model": last.model,
        "created": last.created,
        "input_tokens": draft.input_tokens,
        "output_tokens": draft.output_tokens,
        "sdgen_version": __version__,
        "prompt_hash": draft.prompt_hash,
        "input_hash": digest,
        "tags": _merged(tags),
        "checks": checklist(draft.report).tally,  # the persona's requirements it meets: "14/16"
    }
    return {k: v for k, v in meta.items() if v is not None}

