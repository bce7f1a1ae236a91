"""The site's pages: the vault in reading order, its navigation, and each note's page Markdown.

The home note, then each persona's index and its notes in index order, in sections by category.
A page is the note's body with wikilinks made page links and callouts admonitions, a line of its
properties under its title, and front matter of its title and tags: each escaped, since the
theme places them as HTML. Each diagram is checked by Mermaid's parser as validation checks it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..check import check_diagrams
from ..errors import SiteError
from ..markdown import parse_document
from ..vault import (
    HOME_TITLE,
    INDEX_NOTE,
    INDEX_TAG,
    LinkTargets,
    home_note,
    listed_notes,
    read_note_text,
    split_note,
    to_python_markdown,
    walk_notes,
)

__all__ = ["SitePage", "SiteProblem", "SiteResult", "navigation", "site_pages", "write_pages"]

_SHOWN = ("persona", "category", "model")  # front matter shown on a page; the rest is for tools


@dataclass(frozen=True)
class SitePage:
    """A note of the vault as a page of the site."""

    source: Path  # the note in the vault
    page: str  # its Markdown page in the site's source: "senior/messaging/idempotent-writes.md"
    title: str
    category: str | None = None
    index: bool = False  # the home note or a persona index
    aliases: tuple[str, ...] = ()  # names a wikilink may use for it, beside its title
    text: str | None = None  # the page's note when it is not on disk (a vault with no home note)

    @property
    def url(self) -> str:
        return self.page.removesuffix(".md") + ".html"


@dataclass(frozen=True)
class SiteProblem:
    """Something a reader of the site would see as broken, by note, line and page."""

    source: Path
    page: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else str(self.source)
        return f"{where}: {self.message} (page {self.page})"


@dataclass
class SiteResult:
    site: Path
    pages: int = 0
    diagrams: int = 0
    problems: list[SiteProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # mkdocs's own, as it words them
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return not self.problems and not self.warnings



# The vault, in reading order.

def site_pages(out: Path) -> list[SitePage]:
    """Every page of the site in navigation order: the home note, then each persona's index
    and its notes in index order (notes no index lists follow, by path)."""
    if not out.is_dir():
        raise SiteError(f"{out}: no such output folder")
    pages: list[SitePage] = []
    home = None if (out / INDEX_NOTE).is_file() else home_note(out)  # the site needs a home
    if home or (out / INDEX_NOTE).is_file():
        pages.append(SitePage(out / INDEX_NOTE, INDEX_NOTE, HOME_TITLE, index=True, text=home))
    folders = (p for p in out.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    for folder in sorted(folders):
        notes = {path: meta for path, meta in walk_notes(folder)}
        if not notes:
            continue
        index = folder / INDEX_NOTE
        if index.is_file():
            pages.append(SitePage(index, f"{folder.name}/{INDEX_NOTE}", f"{folder.name} notes",
                                  index=True))
        for path in dict.fromkeys([*listed_notes(index), *sorted(notes)]):
            if path not in notes:
                continue
            meta = notes[path]
            category, aliases = meta.get("category"), meta.get("aliases")
            pages.append(SitePage(
                path, path.relative_to(out).as_posix(), str(meta.get("title") or path.stem),
                category if isinstance(category, str) else None,
                aliases=tuple(str(a) for a in aliases if isinstance(a, str))
                if isinstance(aliases, list) else ()))
    return pages


def navigation(pages: list[SitePage]) -> list[Any]:
    """mkdocs's ``nav``: Home, then a section per persona holding its index and one section per
    category, in the order the pages come. Titles are escaped: the theme places them as HTML."""
    nav: list[Any] = []
    sections: dict[str, list[Any]] = {}
    categories: dict[tuple[str, str], list[Any]] = {}
    for page in pages:
        if page.page == INDEX_NOTE:
            nav.append({"Home": page.page})
            continue
        persona = page.page.split("/", 1)[0]
        if persona not in sections:
            sections[persona] = []
            nav.append({html.escape(persona): sections[persona]})
        entry = page.page if page.index else {html.escape(page.title): page.page}
        if page.category is None or page.index:
            sections[persona].append(entry)
            continue
        key = (persona, page.category)
        if key not in categories:
            categories[key] = []
            sections[persona].append({html.escape(page.category): categories[key]})
        categories[key].append(entry)
    return nav


# One page's Markdown.

def _properties(meta: dict[str, Any]) -> str:
    shown = [str(meta[key]) for key in _SHOWN if isinstance(meta.get(key), str | int | float)]
    created = str(meta.get("created") or "")[:10]
    if created:
        shown.append(created)
    if not shown:
        return ""
    words = " · ".join(html.escape(value, quote=False) for value in shown)
    return f'<p class="sdgen-properties">{words}</p>'


def _with_properties(body: str, properties: str) -> str:
    """The properties line under the note's title (or at its top when it has none)."""
    if not properties:
        return body
    lines = body.split("\n")
    for i, line in enumerate(lines[:40]):
        if line.startswith("# "):
            return "\n".join([*lines[:i + 1], "", properties, "", *lines[i + 1:]])
    return f"{properties}\n\n{body}"


def _page_front_matter(page: SitePage, meta: dict[str, Any]) -> str:
    """What mkdocs-material reads: the title, and the tags a reader can use (escaped: the
    theme places them as HTML)."""
    tags = [html.escape(t) for t in meta.get("tags") or [] if isinstance(t, str) and t != INDEX_TAG]
    front: dict[str, Any] = {"title": html.escape(page.title)}
    if tags:
        front["tags"] = tags
    return "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n\n"


def _diagram_problems(page: SitePage, text: str) -> tuple[int, list[SiteProblem]]:
    """Mermaid's verdict on each diagram of a note (validation's own check), as problems at
    their lines in the note; and how many diagrams it holds."""
    found = check_diagrams(parse_document(text, blocks_only=True))
    problems = [SiteProblem(page.source, page.url, problem.message, problem.line)
                for problem in found.problems.values()]
    return len(found.problems) + len(found.kinds), problems


def _slugify(text: str, separator: str) -> str:
    """Heading ids as GitHub makes them (the anchors models write in their tables of contents);
    the same function names the headings of every page (``toc.slugify`` in the config)."""
    from pymdownx.slugs import slugify

    return str(slugify(case="lower")(text, separator))


def write_pages(pages: list[SitePage], docs: Path, result: SiteResult, diagram_check: bool) -> None:
    names: dict[str, str] = {}
    for page in pages:
        if not page.index:
            for name in (page.title, *page.aliases):
                names.setdefault(name, page.page)
    targets = LinkTargets((p.page for p in pages), names)
    for page in pages:
        text = page.text if page.text is not None else read_note_text(page.source)
        meta, _, body = split_note(text)
        if diagram_check and not page.index:
            count, problems = _diagram_problems(page, text)
            result.diagrams += count
            result.problems += problems
        converted = to_python_markdown(body, page.page, targets, _slugify)
        for link in converted.unresolved:
            result.problems.append(SiteProblem(page.source, page.url,
                                               f"{link} leads to no note; shown as its words"))
        markdown = converted.text
        if not page.index:
            markdown = _with_properties(markdown, _properties(meta))
        target = docs / page.page
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_page_front_matter(page, meta) + markdown, encoding="utf-8")
    result.pages = len(pages)

