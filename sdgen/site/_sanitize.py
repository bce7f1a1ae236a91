"""The HTML of a note's page, cleaned to what a study note needs before a browser sees it.

A note is a model's answer: hostile input from the network. Markdown lets raw HTML through, and
a pattern over Markdown lines never sees HTML as a browser parses it (a tag split over two
lines, an attribute holding ``<``, entities inside ``srcdoc``). So the HTML Python-Markdown
makes of a page is parsed and rebuilt by ammonia (``nh3``) from an allowlist: the tags and
attributes the site's own extensions write (headings and their permalinks, admonitions,
details, tables, highlighted code, diagrams, math, task lists, footnotes, images) and harmless
formatting (``kbd``, ``mark``, ``sub``...). No event attribute, ``style`` (but a table cell's
alignment), ``srcdoc``, form, frame, object, ``meta`` or ``base`` survives; a link leads only
to a page, an anchor, ``http(s)`` or ``mailto``; ``data:`` is only an image's picture. The
text of a tag taken out stays as text (``<script>`` and ``<style>`` go with their content).

An image on another host becomes a link to it: a page asks no other host for anything.
"""

from __future__ import annotations

import html
import re

import nh3

__all__ = ["clean_page_html", "text_only"]

_TAGS = {
    "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code", "col",
    "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "input", "ins", "kbd", "label", "li",
    "mark", "ol", "p", "pre", "q", "rp", "rt", "ruby", "s", "samp", "small", "span", "strike",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time",
    "tr", "tt", "u", "ul", "var", "wbr",
}
_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "ol": {"start", "reversed"},
    "li": {"value"},
    "td": {"colspan", "rowspan", "align", "style"},
    "th": {"colspan", "rowspan", "align", "scope", "style"},
    "col": {"span"},
    "colgroup": {"span"},
    "details": {"open"},
    "time": {"datetime"},
    "del": {"datetime"},
    "ins": {"datetime"},
}
# A task list's box (pymdownx.tasklist): the only input a page holds, shown, never used.
_INPUT_VALUES = {"input": {"type": {"checkbox"}, "checked": {"", "checked"}}}
_INPUT_FORCED = {"input": {"disabled": "disabled"}}
_SCHEMES = {"http", "https", "mailto", "data"}  # data: only for an image, see _attribute
_ALIGNMENT = re.compile(r"\s*text-align:\s*(left|right|center)\s*;?\s*", re.IGNORECASE)
_PICTURE = re.compile(r"data:image/(?:png|gif|jpe?g|webp|avif|bmp);", re.IGNORECASE)
_SCHEME = re.compile(r"^\s*([a-z][a-z0-9+.-]*):", re.IGNORECASE)
# An img as ammonia writes it: attributes double-quoted, with '"' and '>' escaped inside.
_IMG = re.compile(r'<img((?: [\w:-]+="[^"]*")*) ?/?>')
_IMG_ATTRIBUTE = re.compile(r'([\w:-]+)="([^"]*)"')


def _attribute(tag: str, name: str, value: str) -> str | None:
    if name == "style":  # Python-Markdown aligns table columns so; nothing else is kept
        match = _ALIGNMENT.fullmatch(value)
        return f"text-align: {match.group(1).lower()};" if match else None
    if name == "id" and value.startswith("_"):
        return None  # the theme's own elements ("__config", "__search"): never shadowed
    if name in ("href", "src"):
        scheme = _SCHEME.match(value)
        if scheme and scheme.group(1).lower() == "data" and not (
                tag == "img" and name == "src" and _PICTURE.match(value.strip())):
            return None
    return value


def _remote_image_as_link(match: re.Match[str]) -> str:
    attributes = {name: html.unescape(value) for name, value in
                  _IMG_ATTRIBUTE.findall(match.group(1))}
    src = attributes.get("src", "")
    scheme = _SCHEME.match(src)
    if not src.strip().startswith("//") and not (scheme and scheme.group(1).lower() in (
            "http", "https")):
        return match.group(0)  # a picture of the site itself, or drawn from data: kept
    words = attributes.get("alt") or attributes.get("title") or "image"
    return f'<a href="{html.escape(src)}">{html.escape(words, quote=False)}</a>'


def clean_page_html(page_html: str) -> str:
    """A page's content HTML with only what the allowlist keeps."""
    cleaned = nh3.clean(
        page_html, tags=_TAGS, clean_content_tags={"script", "style"}, attributes=_ATTRIBUTES,
        attribute_filter=_attribute, strip_comments=True, link_rel=None,
        tag_attribute_values=_INPUT_VALUES, set_tag_attribute_values=_INPUT_FORCED,
        url_schemes=_SCHEMES)
    return _IMG.sub(_remote_image_as_link, cleaned) if "<img" in cleaned else cleaned


def text_only(fragment: str) -> str:
    """A fragment of HTML (a heading in the table of contents, a title) as escaped text: its
    tags gone, its words kept, safe to place in a page as it is."""
    return nh3.clean(fragment, tags=set(), clean_content_tags={"script", "style"})
