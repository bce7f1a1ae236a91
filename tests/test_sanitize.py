"""A note's page as the reader's browser gets it: Obsidian Markdown, made HTML by Python-Markdown
(the site's extensions), then cleaned by the allowlist of sdgen.sanitize."""

from __future__ import annotations

import markdown
import pytest
from markdown.extensions.toc import slugify

from sdgen.site import clean_page_html, text_only
from sdgen.vault import LinkTargets, to_python_markdown

EXTENSIONS = ["admonition", "pymdownx.details", "pymdownx.superfences", "tables", "toc",
              "md_in_html", "footnotes"]


def _page(body: str) -> str:
    text = to_python_markdown(body, "index.md", LinkTargets(["index.md"], {}), slugify).text
    return clean_page_html(markdown.markdown(text, extensions=EXTENSIONS))


@pytest.mark.parametrize("body", [
    '<details open ontoggle="alert(1)"><summary>s</summary>x</details>',
    '<img src=x\nonerror="alert(1)">',
    '\\`<img src=x onerror="alert(1)">\\`',
    '<div title="<" autofocus onfocus="alert(1)">x</div>',
    '<b onmouseover="alert(1)">hover</b>',
    '<svg onload="alert(1)"></svg>',
    '<a href="#" onclick="alert(1)">x</a>',
], ids=["details ontoggle", "split tag", "escaped backticks", "less-than in attribute",
        "hover handler", "svg onload", "onclick"])
def test_no_event_attribute_survives(body: str) -> None:
    page = _page(f"Before.\n\n{body}\n\nAfter.\n")
    assert "alert" not in page and "Before." in page and "After." in page


@pytest.mark.parametrize("body", [
    '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    '<meta\nhttp-equiv="refresh" content="2;url=http://evil.test/">',
    '<base href="http://evil.test/">', '<form action="http://evil.test/"><input name=q></form>',
    '<object data="http://evil.test/o"></object>', '<embed src="http://evil.test/e">',
    '<link rel="stylesheet" href="http://evil.test/s.css">',
    '<style>@import url(http://evil.test/i.css);</style>', '<script>alert(1)</script>',
], ids=["iframe srcdoc", "meta refresh", "base", "form", "object", "embed", "link", "style",
        "script"])
def test_no_element_that_runs_moves_or_embeds_survives(body: str) -> None:
    page = _page(f"{body}\n\nText.\n")
    for word in ("iframe", "srcdoc", "meta", "refresh", "base", "form", "object", "embed",
                 "link", "style", "script", "evil.test", "alert"):
        assert word not in page
    assert "Text." in page


def test_links_that_would_run_script_are_their_words() -> None:
    page = _page("[click](javascript:alert(1)) and [pic](data:text/html;base64,PHNjcmlwdD4=) "
                 "and [ref][evil] and [fine](https://example.com) and <a href=' JaVaScRiPt:x'>s</a>"
                 "\n\n[evil]: JavaScript:alert(2)\n")
    assert "javascript" not in page.lower() and "data:" not in page
    assert "<a>click</a> and <a>pic</a> and <a>ref</a>" in page
    assert '<a href="https://example.com">fine</a>' in page


def test_remote_images_are_links_and_pictures_of_the_page_stay() -> None:
    page = _page('![diagram](https://example.com/d.png) <img src="//x.test/a.png" alt="a">'
                 ' ![local](pictures/p.png) ![inline](data:image/png;base64,iVBORw0KGgo=)'
                 ' <img src="data:image/svg+xml;base64,PHN2Zz4=">\n')
    assert '<a href="https://example.com/d.png">diagram</a>' in page
    assert '<a href="//x.test/a.png">a</a>' in page
    assert '<img alt="local" src="pictures/p.png">' in page
    assert '<img alt="inline" src="data:image/png;base64,iVBORw0KGgo=">' in page
    assert "svg+xml" not in page  # a picture that may hold script: not a picture


def test_formatting_renders_and_the_theme_is_never_shadowed() -> None:
    page = _page("a<br>b <kbd>Ctrl</kbd> <mark>m</mark> H<sub>2</sub>O <abbr title='t'>T</abbr> "
                 '<span id="__config">{"search": "x"}</span> <div style="position:fixed">p</div>'
                 "\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n## Heading\n")
    for kept in ("<br>", "<kbd>Ctrl</kbd>", "<mark>m</mark>", "<sub>2</sub>",
                 '<abbr title="t">T</abbr>', '<th style="text-align: left;">a</th>',
                 '<td style="text-align: right;">2</td>', '<h2 id="heading">Heading</h2>'):
        assert kept in page, kept
    assert "__config" not in page and "position" not in page


def test_text_only_keeps_words_never_tags() -> None:
    assert text_only('<img src=x onerror="alert(1)"> Raw') == " Raw"
    assert text_only("&lt;img src=x&gt; &amp; more") == "&lt;img src=x&gt; &amp; more"
    assert text_only("<script>alert(1)</script>Title") == "Title"
