"""Obsidian Markdown carried over to Python-Markdown: what a reader of the site sees."""

from __future__ import annotations

import markdown
from markdown.extensions.toc import slugify

from sdgen.vault import LinkTargets, to_python_markdown

PAGES = ["index.md", "senior/index.md", "senior/scalability/consistent-hashing.md",
         "obsidian/scalability/rate-limiter.md", "visual/caching/cache-aside-pattern.md",
         "emoji/caching/cache-aside-pattern.md"]
TARGETS = LinkTargets(PAGES, {"Consistent Hashing": "senior/scalability/consistent-hashing.md",
                              "Rate Limiter": "obsidian/scalability/rate-limiter.md"})
EXTENSIONS = ["admonition", "pymdownx.details", "pymdownx.superfences", "tables", "toc"]


def _html(body: str, page: str = "obsidian/scalability/rate-limiter.md") -> str:
    text = to_python_markdown(body, page, TARGETS, slugify).text
    return markdown.markdown(text, extensions=EXTENSIONS)


def test_callouts_become_admonitions_with_their_title_and_fold() -> None:
    html = _html("> [!WARNING] The 3 AM incident\n> Counters *drift* under failover.\n\n"
                 "> [!tip]- Whiteboard shortcut\n> Draw the gateway first.\n\n"
                 "> [!faq]+\n> Open by default.\n\n> [!custom] Odd type\n> kept as a note\n")
    assert '<div class="admonition warning">' in html
    assert '<p class="admonition-title">The 3 AM incident</p>' in html
    assert "<em>drift</em>" in html
    assert '<details class="tip">' in html and "<summary>Whiteboard shortcut</summary>" in html
    assert '<details class="question" open="open">' in html
    assert '<div class="admonition note">' in html and "Odd type" in html
    assert "[!" not in html and "<blockquote>" not in html


def test_a_callout_keeps_its_code_lists_and_nested_callouts() -> None:
    html = _html("> [!NOTE] Steps\n> 1. first\n>    - nested\n>\n> ```python\n> x = 1\n>\n"
                 "> y = 2\n> ```\n> > [!DANGER] Inside\n> > careful\n")
    assert '<div class="admonition note">' in html and '<div class="admonition danger">' in html
    assert "<ol>\n<li>first<ul>\n<li>nested</li>" in html.replace("\n\n", "\n")
    code = html[html.index("<pre"):html.index("</pre>")]
    assert "x" in code and "y" in code and "admonition danger" not in code


def test_a_plain_quote_stays_a_quote() -> None:
    assert "<blockquote>" in _html("> Just a quote, no [!type].\n")


def test_wikilinks_become_relative_page_links() -> None:
    html = _html("See [[senior/scalability/consistent-hashing|consistent hashing]], "
                 "[[Rate Limiter#Sliding Window Log]] and [[cache-aside-pattern]].\n",
                 page="visual/caching/cache-aside-pattern.md")
    assert '<a href="../../senior/scalability/consistent-hashing.md">consistent hashing</a>' in html
    assert ('<a href="../../obsidian/scalability/rate-limiter.md#sliding-window-log">'
            "Sliding Window Log</a>") in html
    # A name two personas hold: the linking note's own persona's note (itself: no link).
    assert html.endswith("and cache-aside-pattern.</p>")
    other = _html("[[caching/cache-aside-pattern]]", page="emoji/index.md")
    assert '<a href="caching/cache-aside-pattern.md">' in other


def test_index_links_are_relative_to_their_folder() -> None:
    text = to_python_markdown("- [[scalability/consistent-hashing|Consistent Hashing]]\n"
                              "- [[senior/index#Scalability Patterns|Scalability Patterns]]\n",
                              "senior/index.md", TARGETS, slugify).text
    assert "[Consistent Hashing](scalability/consistent-hashing.md)" in text
    assert "[Scalability Patterns](#scalability-patterns)" in text  # a heading of the page
    home = to_python_markdown("- [[senior/index#Scalability Patterns|Scalability Patterns]]\n",
                              "index.md", TARGETS, slugify).text
    assert "[Scalability Patterns](senior/index.md#scalability-patterns)" in home


def test_a_link_to_no_note_becomes_its_words_and_is_reported() -> None:
    converted = to_python_markdown("Read [[Nowhere Note|the missing one]] later.\n",
                                   "index.md", TARGETS, slugify)
    assert converted.text == "Read the missing one later.\n"
    assert converted.unresolved == ["[[Nowhere Note|the missing one]]"]


def test_code_is_never_touched() -> None:
    body = ("Use `[[not a link]]` and `<script>`.\n\n```mermaid\nflowchart LR\n  A[[Queue]] --> B\n```\n\n"
            "```text\n> [!NOTE] not a callout\n<b>raw</b>\n```\n")
    text = to_python_markdown(body, "index.md", TARGETS, slugify).text
    assert text == body.rstrip("\n") + "\n" or text == body


def test_nested_lists_nest_as_they_do_in_obsidian() -> None:
    html = _html("- top\n  - child\n    - grandchild\n- next\n\nThen:\n\n1. one\n   - under one\n2. two\n")
    flat = html.replace("\n", "")
    assert "<li>top<ul><li>child<ul><li>grandchild</li></ul></li></ul></li><li>next</li>" in flat
    assert "<li>one<ul><li>under one</li></ul></li><li>two</li>" in flat


def test_a_fence_inside_a_list_item_stays_inside_it() -> None:
    html = _html("1. Run it:\n\n   ```bash\n   sdgen site\n   ```\n\n2. Open it.\n")
    flat = html.replace("\n", "")
    assert '<ol><li><p>Run it:</p><div class="highlight"><pre>' in flat
    assert "<li><p>Open it.</p></li></ol>" in flat


def test_a_wikilink_in_a_table_keeps_its_escaped_pipe_apart() -> None:
    html = _html("| topic | note |\n| --- | --- |\n| hashing | [[Consistent Hashing\\|the ring]] |\n")
    assert '<td><a href="../../senior/scalability/consistent-hashing.md">the ring</a></td>' in html


def test_a_diagram_inside_a_callout_stays_a_diagram() -> None:
    from pymdownx.superfences import fence_div_format

    text = to_python_markdown("> [!EXAMPLE] Flow\n> ```mermaid\n> flowchart LR\n>   A --> B\n> ```\n",
                              "index.md", TARGETS, slugify).text
    html = markdown.markdown(text, extensions=["admonition", "pymdownx.superfences"],
                             extension_configs={"pymdownx.superfences": {"custom_fences": [
                                 {"name": "mermaid", "class": "mermaid-diagram",
                                  "format": fence_div_format}]}})
    assert '<div class="admonition example">' in html
    assert '<div class="mermaid-diagram">flowchart LR\n  A --&gt; B</div>' in html


def test_obsidian_comments_are_left_out() -> None:
    html = _html("Kept %%hidden aside%% text.\n\n%%\nA whole block\nof notes to self\n%%\n\nAfter.\n"
                 "\n```mermaid\nflowchart LR\n  %% a Mermaid comment stays\n  A --> B\n```\n")
    assert "Kept  text." in html and "After." in html
    assert "hidden" not in html and "notes to self" not in html
    assert "%% a Mermaid comment stays" in html


def test_two_lists_in_a_row_stay_two_lists() -> None:
    flat = _html("1. one\n2. two\n\n- [ ] task\n\n* other bullets\n\nText.\n\n- fresh\n").replace("\n", "")
    assert "<ol><li>one</li><li>two</li></ol>" in flat
    assert flat.count("<ul>") + flat.count('<ul class="task-list">') == 3


def test_a_backslash_line_break_is_a_line_break() -> None:
    assert "line one<br />\nline two" in _html("line one\\\nline two\n")
    escaped = _html("a path C:\\\\\nnext\n")  # an escaped backslash ends the line: no break
    assert "<br" not in escaped and "C:\\" in escaped
