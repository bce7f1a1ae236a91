"""Topic input: arguments, or an index file as plain text, YAML, or a Markdown outline."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import emoji
import yaml
from markdown_it import MarkdownIt

from ..errors import TopicIndexError
from ._mojibake import fix_mojibake

__all__ = ["MAX_TOPIC_LENGTH", "Topic", "parse_index", "read_index", "topics_from_args"]

MAX_TOPIC_LENGTH = 300
# `##` sections of a Markdown outline that teach how to read the guide rather than name topics.
_READING_GUIDE = re.compile(r"\b(how to read|start here|reading guide)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Topic:
    """One note to write: its title, the category it is filed under, and optional extras."""

    title: str
    category: str | None = None
    question: str | None = None
    context: str | None = None
    persona: str | None = None  # overrides the run's persona for this topic
    aliases: tuple[str, ...] = ()  # other names of the topic (a title may use any of them)


def clean_name(text: str) -> str:
    """A heading or list item as a plain name: no emphasis, emoji, links or stray spaces."""
    text = emoji.replace_emoji(text, replace="")
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [text](url) -> text
    text = re.sub(r"[*_`~]+", "", text)
    text = text.replace("\ufe0f", "").replace("\u200d", "")
    return re.sub(r"\s+", " ", text).strip(" :-–—")


def _check(title: str, where: str) -> str:
    title = title.strip()
    if not title:
        raise TopicIndexError(f"{where}: empty topic")
    if len(title) > MAX_TOPIC_LENGTH:
        raise TopicIndexError(
            f"{where}: topic is {len(title)} characters long (at most {MAX_TOPIC_LENGTH})"
        )
    if not any(c.isalnum() for c in title):
        raise TopicIndexError(f"{where}: {title!r} is not a topic (no letters or digits)")
    if any(ord(c) < 32 for c in title):
        raise TopicIndexError(f"{where}: topic contains control characters")
    return title


def topics_from_args(titles: list[str], question: str | None = None) -> list[Topic]:
    topics = [Topic(_check(t, f"topic {i}"), question=question) for i, t in enumerate(titles, 1)]
    _no_duplicates(topics, "arguments")
    return topics


_TRAILING_COMMENT = re.compile(r"\s+#(?:\s.*)?$")  # "URL Shortener   # the classic"; not "C#"


def _parse_text(text: str, name: str) -> list[Topic]:
    topics = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = _TRAILING_COMMENT.sub("", line.strip())
        if line and not line.startswith("#"):
            topics.append(Topic(_check(line, f"{name}:{number}")))
    return topics


MAX_FIELD_LENGTH = {"question": 2_000, "context": 20_000, "persona": 80, "category": 300}


def _short_text(value: Any, key: str, where: str) -> str | None:
    """A field of an index entry: a short string (or a number), never a list, a mapping or a
    wall of text (a YAML alias bomb in `context:` would otherwise become a huge prompt)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TopicIndexError(f"{where}: '{key}' must be text, not {type(value).__name__}")
    text = str(value).strip()
    limit = MAX_FIELD_LENGTH[key]
    if len(text) > limit:
        raise TopicIndexError(f"{where}: '{key}' is {len(text):,} characters long "
                              f"(at most {limit:,})")
    if key != "context" and any(ord(c) < 32 and c not in "\t" for c in text):
        raise TopicIndexError(f"{where}: '{key}' contains control characters")
    return text or None


def _yaml_topic(item: Any, category: str | None, where: str) -> Topic:
    if isinstance(item, str | int | float):
        return Topic(_check(str(item), where), category)
    if isinstance(item, dict):
        unknown = set(item) - {"topic", "title", "question", "context", "persona", "aliases"}
        if unknown:
            raise TopicIndexError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        title = item.get("topic") or item.get("title")
        if not isinstance(title, str | int | float) or isinstance(title, bool):
            raise TopicIndexError(f"{where}: a topic entry needs 'topic: <name>'")
        title = str(title)
        question, context, persona = (_short_text(item.get(k), k, where)
                                      for k in ("question", "context", "persona"))
        aliases = item.get("aliases") or []
        if isinstance(aliases, str):
            aliases = [aliases]
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise TopicIndexError(f"{where}: 'aliases' must be a list of names")
        return Topic(_check(title, where), category, question, context, persona,
                     tuple(_check(a, where) for a in aliases))
    raise TopicIndexError(f"{where}: {item!r} is not a topic")


def _parse_yaml(text: str, name: str) -> list[Topic]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        problem = getattr(exc, "problem", None) or str(exc)
        raise TopicIndexError(f"{where}: YAML syntax error: {problem}") from exc
    if data is None:
        return []
    if isinstance(data, list):
        return [_yaml_topic(item, None, f"{name}: item {i}") for i, item in enumerate(data, 1)]
    if not isinstance(data, dict):
        raise TopicIndexError(f"{name}: expected categories mapping to lists of topics")
    topics = []
    for category, items in data.items():
        if not isinstance(items, list):
            raise TopicIndexError(f"{name}: category {category!r} must hold a list of topics")
        label = clean_name(_short_text(category, "category", name) or "") or None
        for i, item in enumerate(items, 1):
            topics.append(_yaml_topic(item, label, f"{name}: {category} item {i}"))
    return topics


def _parse_outline(text: str, name: str) -> list[Topic]:
    """`##` headings are categories, `###` headings topics; the reading guide is skipped."""
    text = fix_mojibake(text).text
    tokens = MarkdownIt("commonmark").parse(text)
    topics: list[Topic] = []
    category: str | None = None
    skipping = False
    for i, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        title = clean_name(tokens[i + 1].content)
        line = (token.map[0] + 1) if token.map else 0
        if token.tag == "h2":
            skipping = bool(_READING_GUIDE.search(title))
            category = title or None
        elif token.tag == "h3" and not skipping:
            topics.append(Topic(_check(title, f"{name}:{line}"), category))
    return topics


def _looks_like_yaml(text: str) -> bool:
    """Text whose first line is a `key:` or a `- topic:` entry, and which YAML reads as a
    mapping or a list of mappings."""
    first = next((ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")), "")
    if not re.match(r"^(?:[^\s:#][^:\n]*:\s*$|- (?:topic|title):)", first):
        return False
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    return isinstance(data, dict) or (isinstance(data, list) and any(isinstance(d, dict)
                                                                      for d in data))


def parse_index(text: str, name: str, kind: str | None = None) -> list[Topic]:
    """Parse index text; kind is 'text', 'yaml' or 'markdown' (guessed from the name if None)."""
    if kind is None:
        suffix = Path(name).suffix.lower()
        kind = {".yaml": "yaml", ".yml": "yaml", ".md": "markdown", ".markdown": "markdown"}.get(
            suffix, "text"
        )
        # A .txt file can hold an outline too (seed 001 does): `##` and `###` headings say so.
        if (kind == "text" and re.search(r"^## \S", text, re.MULTILINE)
                and re.search(r"^### \S", text, re.MULTILINE)):
            kind = "markdown"
        elif kind == "text" and not suffix and _looks_like_yaml(text):
            kind = "yaml"  # a nameless index (standard input) in YAML
    parser = {"text": _parse_text, "yaml": _parse_yaml, "markdown": _parse_outline}[kind]
    topics = parser(text, name)
    if not topics:
        raise TopicIndexError(f"{name}: no topics in the index")
    _no_duplicates(topics, name)
    return topics


def _no_duplicates(topics: list[Topic], where: str) -> None:
    """The same topic twice in the same category is a mistake, not two notes."""
    seen: set[tuple[str, str, str]] = set()
    for topic in topics:
        key = (topic.title.casefold(), (topic.category or "").casefold(), topic.persona or "")
        if key in seen:
            within = f" in category {topic.category!r}" if topic.category else ""
            raise TopicIndexError(f"{where}: duplicate topic {topic.title!r}{within}")
        seen.add(key)


def read_index(path: Path) -> list[Topic]:
    """Read and parse an index file; every failure is one TopicIndexError line."""
    try:
        data = path.read_bytes()
    except IsADirectoryError as exc:
        raise TopicIndexError(f"{path}: is a directory, not an index file") from exc
    except FileNotFoundError as exc:
        raise TopicIndexError(f"{path}: no such index file") from exc
    except OSError as exc:
        raise TopicIndexError(f"{path}: cannot read index: {exc.strerror}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TopicIndexError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    return parse_index(text, str(path))
