"""The output folder as an Obsidian vault: linked notes, names Obsidian finds, indexes that remember."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
import respx

from sdgen.cli import run
from sdgen.markdown import MD_EXTENSIONS, extract_answer, format_markdown, split_front_matter
from sdgen.vault import body_hash, front_matter_block, link_vault
from tests.helpers import OPENAI_URL, answer, openai_stream, retitled, topic_asked

RELATED = ("\n\nIn production this design also leans on message queues, a load balancer, "
           "consistent hashing and a job scheduler, and the rate limiter protects all of them.\n\n"
           "```python\n# consistent hashing and message queue in code stay unlinked\n```\n\n"
           "## Related: Rate Limiter and Message Queue\n\nSee the index for the rest of the "
           "vault; every note there was written for this study set.\n")
WIKILINK = re.compile(r"(?<!!)\[\[([^\]|#\n]+)(?:#[^\]|\n]*)?(?:\|([^\]\n]*))?\]\]")


def _reply(request: httpx.Request) -> httpx.Response:
    system = json.loads(request.content)["messages"][0]["content"]
    base = ("visual_valid.md" if "Visual Guide" in system else "senior_valid.md"
            if "Senior arcitect" in system else "obsidian_valid.md")
    text = extract_answer(answer(base))  # the document alone: RELATED goes after its end
    if base == "senior_valid.md":  # no title of its own: give it one, as models often do
        text = f"# {topic_asked(request)}\n\n{text}"
    return openai_stream(retitled(text, topic_asked(request)) + RELATED)


def _index(path: Path, *entries: tuple[str, str]) -> str:
    lines = ["Study:"] + [f"  - topic: {t}\n    persona: {p}" for t, p in entries]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


FIRST = (("Rate Limiter", "obsidian"), ("Consistent Hashing", "senior"),
         ("Load Balancer", "visual"))
SECOND = (("Message Queue", "obsidian"), ("Rate Limiter", "senior"), ("Job Scheduler", "visual"))


@pytest.fixture
def vault(httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch,
          tmp_path: Path) -> respx.Route:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-vault-000000000000000")
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=_reply)
    assert run(["generate", "--index", _index(tmp_path / "a.yaml", *FIRST), "--out", "v"]) == 0
    assert run(["generate", "--index", _index(tmp_path / "b.yaml", *SECOND), "--out", "v"]) == 0
    return route


def _notes(root: Path = Path("v")) -> list[Path]:
    return sorted(p for p in root.rglob("*.md") if "_drafts" not in p.parts)


def _resolve(target: str, root: Path = Path("v")) -> Path | None:
    """A wikilink target as Obsidian resolves it: a path from the vault root, else the one note
    whose path ends with it or whose file name it is (any case). Obsidian never resolves a
    title or an alias, and picks an ambiguous target's note by its own rules: both fail here."""
    target = target.strip().removesuffix(".md").casefold()
    found = []
    for note in _notes(root):
        relative = note.relative_to(root).with_suffix("").as_posix().casefold()
        if relative == target:
            return note
        if relative.endswith("/" + target):
            found.append(note)
    return found[0] if len(found) == 1 else None


def _outside_code(body: str) -> str:
    return re.sub(r"(?ms)^```.*?^```", "", body)


@pytest.mark.usefixtures("vault")
def test_every_wikilink_resolves_and_reaches_every_note() -> None:
    for note in _notes():
        for target, _ in WIKILINK.findall(note.read_text()):
            assert _resolve(target), f"{note}: [[{target}]] leads nowhere"
    # From the home note, following links, a reader reaches every note.
    seen, todo = set(), [Path("v/index.md")]
    while todo:
        note = todo.pop()
        if note in seen:
            continue
        seen.add(note)
        todo += [p for t, _ in WIKILINK.findall(note.read_text()) if (p := _resolve(t))]
    assert seen == set(_notes())


@pytest.mark.usefixtures("vault")
def test_notes_link_each_others_topics_in_prose_only() -> None:
    first = Path("v/obsidian/study/rate-limiter.md").read_text()
    _, block, body = split_front_matter(first)
    # A note of the first run links a topic added by the second, in its own persona.
    assert "[[obsidian/study/message-queue|message queues]]" in body
    assert "[[senior/study/consistent-hashing|consistent hashing]]" in body
    assert "[[" not in block
    for line in body.split("\n"):
        if line.startswith("#"):
            assert "[[" not in line, line  # never in headings
    assert "# consistent hashing and message queue in code stay unlinked" in body
    for note in _notes():
        if note.name == "index.md":
            continue
        text = note.read_text()
        targets = [t for t, _ in WIKILINK.findall(_outside_code(split_front_matter(text)[2]))]
        own = note.relative_to("v").with_suffix("").as_posix()
        assert own not in targets, f"{note} links itself"
        generated = [t for t in targets if "/" in t]
        assert len(generated) == len(set(generated)), f"{note} links a target twice"


@pytest.mark.usefixtures("vault")
def test_same_topic_in_two_personas_links_within_the_persona() -> None:
    senior = Path("v/senior/study/consistent-hashing.md").read_text()
    assert "[[senior/study/rate-limiter|rate limiter]]" in senior
    assert "[[obsidian/study/rate-limiter" not in senior


@pytest.mark.usefixtures("vault")
def test_indexes_remember_and_names_are_findable() -> None:
    obsidian = Path("v/obsidian/index.md").read_text()
    assert "[[obsidian/study/rate-limiter|Rate Limiter]]" in obsidian  # first run
    assert "[[obsidian/study/message-queue|Message Queue]]" in obsidian  # second run
    home = Path("v/index.md").read_text()
    assert "[[obsidian/index|obsidian]]: 2 notes" in home and "[[visual/index#Study|Study]]: 2" in home
    for note in _notes():
        if note.name != "index.md":
            meta = split_front_matter(note.read_text())[0]
            assert meta["topic"] in meta["aliases"]


def test_a_third_identical_run_calls_nothing_and_changes_no_byte(
        vault: respx.Route, tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in Path("v").rglob("*") if p.is_file()}
    calls = vault.call_count
    assert run(["generate", "--index", str(tmp_path / "b.yaml"), "--out", "v"]) == 0
    assert vault.call_count == calls
    after = {p: p.read_bytes() for p in Path("v").rglob("*") if p.is_file()}
    changed = [p for p in after if before.get(p) != after[p] and p.name != "run-report.json"]
    assert not changed and set(after) == set(before)


@pytest.mark.usefixtures("vault")
def test_a_hand_edited_note_is_never_rewritten_by_linking(capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    note = Path("v/visual/study/load-balancer.md")
    note.write_text(note.read_text() + "\nMy own words: health checks run every 2 s here.\n")
    edited = note.read_bytes()
    assert run(["generate", "--index", _index(tmp_path / "c.yaml", ("Health Checks", "visual")),
                "--out", "v"]) == 0
    assert run(["link", "--out", "v"]) == 0
    assert note.read_bytes() == edited
    assert f"kept as edited by hand (not linked): {note}" in capsys.readouterr().out


@pytest.mark.usefixtures("vault")
def test_formatting_a_written_note_changes_no_byte() -> None:
    import mdformat

    for note in _notes():
        text = note.read_text()
        assert mdformat.text(text, extensions=MD_EXTENSIONS,
                             options={"wrap": "keep", "number": True}) == text, note


def test_front_matter_is_laid_out_as_mdformat_lays_it_out() -> None:
    import mdformat

    metas = [
        {"title": 'T: a "quoted" [x]', "tags": ["a", "b/c"], "none": None, "b": True,
         "regenerated": [{"sections": ["X", "Y"], "at": "2026", "n": 3}]},
        {"question": "line one\nline two: with colon", "context": "x" * 1500, "num": "1e5",
         "aliases": ["Rate Limiter", "rate-limiter"], "emoji": "🚦 Rate", "date": "2026-11-30"},
    ]
    for meta in metas:
        block = front_matter_block(meta)
        assert mdformat.text(block, extensions={"frontmatter"}) == block.rstrip() + "\n"


def _note(root: Path, path: str, title: str, body: str, **extra: object) -> Path:
    note = root / path
    note.parent.mkdir(parents=True, exist_ok=True)
    body = format_markdown(body)  # as sdgen writes every note
    meta = {"title": title, "aliases": [title], "topic": title, "persona": path.split("/")[0],
            **extra, "body_hash": body_hash(body)}
    note.write_text(front_matter_block(meta) + body)
    return note


def test_linking_rules(tmp_path: Path) -> None:
    _note(tmp_path, "p/consistent-hashing.md", "Consistent Hashing", "# Consistent Hashing\n\nA ring.\n")
    _note(tmp_path, "p/hashing.md", "Hashing", "# Hashing\n\nDigests.\n")
    _note(tmp_path, "p/rate-limiter.md", "Rate Limiter", "# Rate Limiter\n\nBuckets.\n")
    body = ("# Cache\n\n> [!TIP] Rate Limiter\n> Rate limiters guard the cache; see "
            "`rate limiter` and https://x.io/rate-limiter.\n\n"
            "| Part | Use |\n| --- | --- |\n| rate limiter | guard |\n\n"
            "We shard with Consistent Hashing, then Hashing again; RATE LIMITERS throttle.\n"
            "[Rate limiter docs](https://x.io) and [[p/rate-limiter|the limiter]] exist.\n")
    cache = _note(tmp_path, "p/cache.md", "Cache", body)
    opted = _note(tmp_path, "p/opted.md", "Opted", "# Opted\n\nUses consistent hashing.\n",
                  links=False)
    opted_before = opted.read_bytes()
    report = link_vault(tmp_path)
    text = cache.read_text()
    linked = split_front_matter(text)[2]
    assert "[[p/consistent-hashing|Consistent Hashing]]" in linked  # the longest name wins
    assert "[[p/hashing|Hashing]] again" in linked  # its own first mention
    assert "> [!TIP] Rate Limiter\n> Rate limiters guard" in linked  # never a callout title
    assert "`rate limiter`" in linked and "https://x.io/rate-limiter" in linked
    assert "| rate limiter |" in linked  # not in tables
    assert "RATE LIMITERS throttle" in linked  # already linked once: never twice
    assert linked.count("p/rate-limiter") == 1
    assert opted.read_bytes() == opted_before  # links: false
    meta = split_front_matter(text)[0]
    assert meta["body_hash"] == body_hash(linked[1:])  # hand-edit safety keeps working
    assert report.links == 2 and report.rewritten == [cache]
    assert format_markdown(linked[1:]) == linked[1:]
    assert link_vault(tmp_path).links == 0  # a rerun changes nothing


def test_a_link_to_a_note_that_does_not_exist_becomes_plain_words(tmp_path: Path) -> None:
    note = _note(tmp_path, "p/a.md", "Alpha Topic",
                 "# Alpha Topic\n\nSee [[Event Hubs]] and [[Nowhere|the void]]; keep ![[img.png]].\n"
                 "```mermaid\nflowchart LR\n  A --> EH[[Event Hubs]]\n```\n")
    link_vault(tmp_path)
    body = split_front_matter(note.read_text())[2]
    assert "See Event Hubs and the void; keep ![[img.png]]." in body
    assert "EH[[Event Hubs]]" in body  # a diagram's shape, not a link


def test_validate_knows_an_index_note(vault: respx.Route,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    for index in ("v/index.md", "v/obsidian/index.md"):
        assert run(["validate", index]) == 0
        assert "an index note, not a topic note" in capsys.readouterr().out


def test_a_topic_keeps_its_path_and_near_names_are_warned(
        httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-vault-000000000000000")
    route = httpx2_mock.post(OPENAI_URL).mock(side_effect=_reply)
    assert run(["generate", "Rate Limiter", "Rate-Limiter", "--out", "o"]) == 0
    err = capsys.readouterr().err
    assert "nearly coincide" in err and "'Rate Limiter', 'Rate-Limiter'" in err
    first = {p.name: split_front_matter(p.read_text())[0]["topic"]
             for p in Path("o/obsidian").glob("rate*.md")}
    assert first == {"rate-limiter.md": "Rate Limiter", "rate-limiter-2.md": "Rate-Limiter"}
    calls = route.call_count
    assert run(["generate", "Rate-Limiter", "--out", "o"]) == 0  # alone, it keeps its own path
    assert route.call_count == calls  # and its note is up to date: nothing asked again
    again = {p.name: split_front_matter(p.read_text())[0]["topic"]
             for p in Path("o/obsidian").glob("rate*.md")}
    assert again == first
    assert run(["generate", "Rate Limiting", "--dry-run", "--out", "o"]) == 0
    assert "nearly coincide" in capsys.readouterr().err


def test_links_a_model_wrote_lead_where_obsidian_finds_them(tmp_path: Path) -> None:
    _note(tmp_path, "p/rate-limiter.md", "Rate Limiter", "# Rate Limiter\n\nBuckets.\n")
    _note(tmp_path, "q/rate-limiter.md", "Rate Limiter", "# Rate Limiter\n\nBuckets.\n")
    _note(tmp_path, "p/message-queue.md", "Message Queue", "# Message Queue\n\nLogs.\n")
    body = ("# Cache\n\n## Related: [[Message Queue]]\n\n> [!NOTE] See [[Rate Limiter]]\n> Body.\n\n"
            "See [[Rate Limiter]] and [[message-queue#Ordering|ordering]]; again "
            "[[Rate Limiter|the limiter]], [[Cache]] itself, `[[Rate Limiter]]` as code.\n\n"
            "| Part | See |\n| --- | --- |\n| queue | [[Message Queue\\|MQ]] |\n")
    cache = _note(tmp_path, "p/cache.md", "Cache", body)
    link_vault(tmp_path)
    linked = split_front_matter(cache.read_text())[2]
    # Obsidian finds no note by its title: the link is given the path, its own persona's first.
    assert "## Related: Message Queue\n" in linked  # never in a heading or a callout title
    assert "> [!NOTE] See Rate Limiter\n" in linked
    assert "See [[p/rate-limiter|Rate Limiter]] and" in linked
    assert "[[p/message-queue#Ordering|ordering]]" in linked
    assert "again the limiter, Cache itself" in linked  # a second link, a link to itself: words
    assert "`[[Rate Limiter]]` as code" in linked
    assert "| queue | MQ |" in linked  # the queue is linked already, above
    assert link_vault(tmp_path).links == 0


def test_briefer_names_acronyms_and_words_joined_to_others(tmp_path: Path) -> None:
    _note(tmp_path, "p/cache-aside.md", "Cache-Aside Pattern", "# Cache-Aside Pattern\n\nLoad.\n")
    _note(tmp_path, "p/saga.md", "Saga Pattern", "# Saga Pattern\n\nSteps.\n")
    _note(tmp_path, "p/cdn.md", "Content Delivery Network", "# CDN\n\nEdges.\n",
          aliases=["Content Delivery Network", "CDN"])
    _note(tmp_path, "p/url-shortener.md", "Design a URL Shortener", "# URL Shortener\n\nIds.\n")
    _note(tmp_path, "p/rate-limiter.md", "Rate Limiter", "# Rate Limiter\n\nBuckets.\n")
    body = ("# Notes\n\nAssets come from cdn.example.com, the cdn of old, #rate-limiter, "
            "[rate limiter], wow!rate limiter and the rate-limiter-service. Reads use "
            "cache-aside; a saga runs long. Behind a CDN, a URL shortener answers. Rate limiters throttle.\n")
    note = _note(tmp_path, "p/notes.md", "Notes", body)
    link_vault(tmp_path)
    linked = split_front_matter(note.read_text())[2]
    assert ("cdn.example.com, the cdn of old, #rate-limiter, [rate limiter], wow!rate limiter "
            "and the rate-limiter-service.") in linked
    assert "use [[p/cache-aside|cache-aside]]; a saga runs" in linked  # "Saga" alone: too common
    assert "Behind a [[p/cdn|CDN]], a [[p/url-shortener|URL shortener]] answers." in linked
    assert "[[p/rate-limiter|Rate limiters]] throttle" in linked


def test_regenerated_sections_link_the_vault_as_the_rest_of_the_note_does(
        vault: respx.Route, httpx2_mock: respx.Router) -> None:
    note = Path("v/obsidian/study/message-queue.md")
    section = ("## 5. 🔌 API Design\n\nProducers call `POST /v1/messages`; a [[Job Scheduler]] "
               "enqueues its runs here and a load balancer spreads the consumers.\n\n"
               "| Method | Path | Purpose |\n|---|---|---|\n| POST | `/v1/messages` | enqueue |\n")
    vault.mock(return_value=openai_stream(section))
    assert run(["regen", str(note), "--section", "api design"]) == 0
    meta, _, body = split_front_matter(note.read_text())
    api = body[body.index("## 5."):body.index("## 6.")]
    # The model's link by title is given its path, and stays the note's one link there.
    assert "a [[visual/study/job-scheduler|Job Scheduler]] enqueues" in api
    assert body.count("[[visual/study/job-scheduler") == 1  # its first mention, now this one
    assert meta["body_hash"] == body_hash(body[1:] if body.startswith("\n") else body)
    assert run(["validate", str(note)]) == 0


def test_the_models_own_tags_and_aliases_are_kept_valid_and_once(
        httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-vault-000000000000000")
    body = extract_answer(answer("obsidian_valid.md"))
    given = ("---\ntags: [System Design, \"#rate-limiting\", Distributed Systems, system-design, "
             "\"2026\"]\naliases: Throttler, API Rate Limiter\n---\n\n")
    httpx2_mock.post(OPENAI_URL).mock(return_value=openai_stream(
        given + retitled(body, "Rate Limiter")))
    assert run(["generate", "Rate Limiter", "--out", "o"]) == 0
    meta = split_front_matter(Path("o/obsidian/rate-limiter.md").read_text())[0]
    assert meta["aliases"] == ["Rate Limiter", "Throttler", "API Rate Limiter"]
    # Spaces become hyphens, '#' goes, a number alone is no tag, each tag once (any case).
    assert meta["tags"] == ["system-design", "persona/obsidian", "rate-limiting",
                            "Distributed-Systems"]


def _linked_body(tmp_path: Path, body: str) -> str:
    """``body`` as a note beside a Rate Limiter note, after linking: what a reader sees."""
    _note(tmp_path, "p/rate-limiter.md", "Rate Limiter", "# Rate Limiter\n\nBuckets.\n")
    note = _note(tmp_path, "p/notes.md", "Notes", body)
    link_vault(tmp_path)
    return split_front_matter(note.read_text())[2]


def test_no_link_inside_an_html_block(tmp_path: Path) -> None:
    body = ("# Notes\n\n<details>\n<summary>More</summary>\n```\ncode\n```\n"
            "A rate limiter, shown raw here.\n</details>\n\n"
            "<!-- a rate limiter in a comment -->\n\nThen a rate limiter in prose.\n")
    linked = _linked_body(tmp_path, body)
    assert "A rate limiter, shown raw here." in linked
    assert "<!-- a rate limiter in a comment -->" in linked
    assert "Then a [[p/rate-limiter|rate limiter]] in prose." in linked


def test_no_link_in_any_kind_of_fence_or_table(tmp_path: Path) -> None:
    body = ("# Notes\n\n````markdown\n```\na rate limiter in a fence within a fence\n```\n````\n\n"
            "~~~\na rate limiter under tildes\n~~~\n\n> ```\n> a rate limiter, quoted code\n> ```\n\n"
            "| :--- | right |\n|:---:|---:|\n| a rate limiter | x |\n\n"
            "- a list item | with a pipe, then a rate limiter in prose\n")
    linked = _linked_body(tmp_path, body)
    assert linked.count("[[p/rate-limiter") == 1
    assert "with a pipe, then a [[p/rate-limiter|rate limiter]] in prose" in linked


@pytest.mark.usefixtures("vault")
def test_quiet_link_says_nothing_when_nothing_is_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert run(["-q", "link", "--out", "v"]) == 0 and run(["link", "-q", "--out", "v"]) == 0
    assert capsys.readouterr() == ("", "")
    assert run(["link", "--out", "v"]) == 0
    assert "link(s) added in 0 of 6 note(s)" in capsys.readouterr().out


def test_no_link_in_a_box_diagram_left_unfenced(tmp_path: Path) -> None:
    body = ("# Notes\n\n┌──────────────┐\n│ Rate Limiter │\n└──────────────┘\n\n"
            "+--------------+ rate limiter +---------+\n\nA rate limiter in prose.\n")
    linked = _linked_body(tmp_path, body)
    assert "│ Rate Limiter │" in linked and "+ rate limiter +" in linked
    assert "A [[p/rate-limiter|rate limiter]] in prose." in linked



IMPOSTOR = ("---\naliases: [the, and, Rate Limiter, CDN, Consistent Hashing]\n---\n\n"
            + retitled(extract_answer(answer("obsidian_valid.md")), "Aardvark Service"))


def _reply_or_impostor(request: httpx.Request) -> httpx.Response:
    if topic_asked(request) == "Aardvark Service":
        return openai_stream(IMPOSTOR)
    return _reply(request)


def _part(n: int) -> str:
    if n % 30 == 0:  # the index's own alias for the rate limiter
        return (f"# Subsystem {n:03d}\n\nThe store and the queue talk. A throttler guards it, "
                "behind the CDN; and consistent hashing spreads the keys.\n")
    return (f"# Subsystem {n:03d}\n\nThe store and the queue talk. The rate limiter guards it, "
            "behind the CDN; and consistent hashing spreads the keys.\n")


def test_a_models_aliases_never_take_the_vaults_links(
        httpx2_mock: respx.Router, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A vault of 300 notes, then one answer whose front matter claims common words and other
    notes' names as its aliases: no link goes to it, none moves, and the index's own alias
    ("Throttler") keeps linking."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-vault-000000000000000")
    httpx2_mock.post(OPENAI_URL).mock(side_effect=_reply_or_impostor)
    index = tmp_path / "i.yaml"
    index.write_text("Study:\n  - topic: Rate Limiter\n    persona: obsidian\n"
                     "    aliases: [Throttler]\n  - topic: Consistent Hashing\n    persona: senior\n"
                     "  - topic: Content Delivery Network\n    persona: senior\n")
    assert run(["generate", "--index", str(index), "--out", "v"]) == 0
    for n in range(300):
        _note(Path("v"), f"obsidian/parts/part-{n:03d}.md", f"Subsystem {n:03d}", _part(n))
    assert run(["link", "--out", "v"]) == 0
    cdn = "[[senior/study/content-delivery-network|CDN]]"
    assert cdn in Path("v/obsidian/study/rate-limiter.md").read_text()  # its persona has none
    before = {p: p.read_bytes() for p in _notes() if p.name != "index.md"}

    assert run(["generate", "Aardvark Service", "--persona", "obsidian", "--out", "v"]) == 0
    impostor = Path("v/obsidian/aardvark-service.md")
    meta = split_front_matter(impostor.read_text())[0]
    assert {"the", "CDN", "Consistent Hashing"} <= set(meta["aliases"])  # kept, never a link name
    capsys.readouterr()
    assert run(["link", "--out", "v"]) == 0
    assert "0 link(s) added in 0 of 304 note(s)" in capsys.readouterr().out
    changed = [p for p in before if p.read_bytes() != before[p]]
    assert not changed, changed[:3]  # nothing links to it, no link moved to it
    assert not [p for p in before if "aardvark" in p.read_text()]
    part = split_front_matter(Path("v/obsidian/parts/part-001.md").read_text())[2]
    assert ("The store and the queue talk. The [[obsidian/study/rate-limiter|rate limiter]] "
            f"guards it, behind the {cdn}; and [[senior/study/consistent-hashing|consistent "
            "hashing]] spreads the keys.") in part
    part = split_front_matter(Path("v/obsidian/parts/part-030.md").read_text())[2]
    assert "A [[obsidian/study/rate-limiter|throttler]] guards it" in part


def test_only_the_models_own_aliases_are_held_to_its_rules(tmp_path: Path) -> None:
    """``model_aliases`` says which aliases the model gave: the index's ("Throttling") link even
    where most notes use the word; the model's only when no rule holds them back."""
    _note(tmp_path, "p/rate-limiter.md", "Rate Limiter", "# Rate Limiter\n\nBuckets.\n",
          aliases=["Rate Limiter", "Throttling", "Token Gate", "Request", "Subsystem 001", "Of"],
          model_aliases=["Token Gate", "Request", "Subsystem 001"])
    parts = [_note(tmp_path, f"p/part-{n:03d}.md", f"Subsystem {n:03d}",
                   f"# Subsystem {n:03d}\n\n" + ("A token gate and Subsystem 001 meet each request.\n"
                                                 if n == 2 else "Each request meets throttling.\n"))
             for n in range(6)]
    link_vault(tmp_path)
    bodies = [split_front_matter(p.read_text())[2] for p in parts]
    assert all("request meets [[p/rate-limiter|throttling]]" in b for n, b in enumerate(bodies)
               if n != 2)
    # The model's "Token Gate" links; its "Request" is in most notes; "Subsystem 001" is
    # another note's title.
    assert ("A [[p/rate-limiter|token gate]] and [[p/part-001|Subsystem 001]] meet each request."
            in bodies[2])
    # Without the list (a note written before it was kept), no alias can be told to be the
    # index's: all are held to the rules, and "Throttling", in most notes, names nothing.
    legacy = tmp_path / "legacy"
    _note(legacy, "p/rate-limiter.md", "Rate Limiter", "# Rate Limiter\n\nBuckets.\n",
          aliases=["Rate Limiter", "Throttling"])
    parts = [_note(legacy, f"p/part-{n}.md", f"Part {n}", f"# Part {n}\n\nIt meets throttling.\n")
             for n in range(6)]
    link_vault(legacy)
    assert all("[[" not in split_front_matter(p.read_text())[2] for p in parts)
