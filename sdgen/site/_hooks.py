"""mkdocs hooks of a vault's site (``hooks:`` in the ``mkdocs.yml`` sdgen writes; loaded by mkdocs
from this file's path, so the kept ``--source`` builds by hand too).

Each page's content is cleaned (sdgen.site._sanitize) after Markdown made it HTML and before the theme
places it, the search index reads it, or anything else sees it; and the headings listed in its
table of contents are text, since the theme places them as they are.
"""

from __future__ import annotations

from typing import Any

# Absolute: mkdocs loads this file by its path, outside the package.
from sdgen.site import clean_page_html, text_only


def _text_titles(items: Any) -> None:
    for item in items:
        item.title = text_only(item.title)
        _text_titles(item.children)


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    _text_titles(page.toc)
    return clean_page_html(html)
