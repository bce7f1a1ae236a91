"""Mermaid diagrams checked by Mermaid's own parser, in-process: no Node, no browser.

The parser is an esbuild bundle of the ``mermaid`` npm package (``mermaid-bundle/``, pinned to
the version Obsidian ships) evaluated in embedded V8 through ``mini-racer``. One engine per
process starts on first use (about 0.2 s) and answers in a few milliseconds a diagram; verdicts
are cached by the diagram's text, so a diagram is parsed once however often it is validated.
Each check has a time limit and the engine a bounded heap: a hostile diagram costs its own
verdict, never the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._memory import release_free_memory
from ..errors import DiagramCheckUnavailableError

__all__ = ["BUNDLE", "MERMAID_DIR", "DiagramCheckUnavailableError", "Verdict", "check_mermaid",
           "engine_version", "ensure_engine", "friendly_kind"]

MERMAID_DIR = Path(__file__).resolve().parent / "_mermaid"
BUNDLE = MERMAID_DIR / "mermaid-parse.js"
TIME_LIMIT = 3.0  # seconds for one diagram
HEAP_LIMIT = 512 * 1024 * 1024  # bytes for the whole engine
_CACHE_SIZE = 1024
_COLLECT_EVERY = 64  # diagrams between full collections of the engine's heap
# A small young generation: a few MB less at no cost in speed. (--lite-mode saves 10 MB more
# but slows parsing enough to break the per-note overhead target: bench/run.py overhead.)
_V8_FLAGS = ("--max-semi-space-size=1",)

# Diagram kinds Obsidian cannot draw without a plug-in (Mermaid ships them apart).
NEEDS_PLUGIN = {"zenuml": "ZenUML"}

# Mermaid's diagram types, as a reader (and a persona spec) names them.
_KIND_NAMES = {"flowchart-v2": "flowchart", "flowchart": "flowchart", "graph": "flowchart",
               "stateDiagram": "state", "classDiagram": "class", "gitGraph": "gitgraph",
               "sequence": "sequence", "er": "er", "c4": "c4", "gantt": "gantt", "pie": "pie",
               "mindmap": "mindmap", "timeline": "timeline", "journey": "journey",
               "quadrantChart": "quadrant", "requirement": "requirement", "sankey": "sankey",
               "xychart": "xychart", "block": "block", "architecture": "architecture",
               "packet": "packet", "kanban": "kanban", "radar": "radar", "treemap": "treemap",
               "info": "info"}

# The jison token names in Mermaid's messages, put into words.
_TOKENS = {
    "SQS": "[", "SQE": "]", "PS": "(", "PE": ")", "DIAMOND_START": "{", "DIAMOND_STOP": "}",
    "STADIUMSTART": "([", "STADIUMEND": "])", "SUBROUTINESTART": "[[", "SUBROUTINEEND": "]]",
    "CYLINDERSTART": "[(", "CYLINDEREND": ")]", "DOUBLECIRCLESTART": "(((",
    "DOUBLECIRCLEEND": ")))", "TRAPSTART": "[/", "TRAPEND": "/]", "INVTRAPSTART": "[\\",
    "INVTRAPEND": "\\]", "TAGSTART": "<", "TAGEND": ">", "PIPE": "|", "AMP": "&", "SEMI": ";",
    "COLON": ":", "COMMA": ",", "MINUS": "-", "-)": "-)", "STR": "a quoted string",
    "MD_STR": "a Markdown string", "NODE_STRING": "a node id", "UNICODE_TEXT": "text",
    "TEXT": "text", "NEWLINE": "a line break", "EOF": "the end of the diagram",
    "SPACE": "a space", "NUM": "a number", "ALPHA": "a letter", "LINK": "an arrow",
    "START_LINK": "an arrow", "ARROW_POINT": "an arrow head", "DIR": "a direction",
    "end": "'end'", "subgraph": "'subgraph'", "INVALID": "an invalid character",
    "1": "the end of the diagram",  # jison's EOF, by number
}


@dataclass(frozen=True)
class Verdict:
    """What Mermaid's parser says of one diagram."""

    ok: bool
    kind: str | None = None  # the reader's name for the diagram type ("flowchart", "c4", ...)
    message: str = ""  # the problem, in words, with Mermaid's own message
    line: int | None = None  # 1-based line inside the diagram's source
    source_line: str = ""  # that line, as written


def friendly_kind(diagram_type: str | None) -> str | None:
    if not diagram_type:
        return None
    return _KIND_NAMES.get(diagram_type, diagram_type.lower())


class _Engine:
    """One V8 context with the bundle loaded; one diagram at a time."""

    def __init__(self) -> None:
        try:
            import py_mini_racer
            from py_mini_racer import MiniRacer
        except ImportError as exc:
            raise DiagramCheckUnavailableError(
                f"the diagram check needs the mini-racer package ({exc}); reinstall sdgen, or "
                "run with --no-diagram-check") from exc
        try:
            source = BUNDLE.read_text(encoding="utf-8")
        except OSError as exc:
            raise DiagramCheckUnavailableError(
                f"the Mermaid parser bundle is missing ({BUNDLE}: {exc.strerror}); rebuild it "
                "with mermaid-bundle/build.sh, or run with --no-diagram-check") from exc
        try:
            with contextlib.suppress(py_mini_racer.LibAlreadyInitializedError):
                py_mini_racer.init_mini_racer(flags=(*py_mini_racer.DEFAULT_V8_FLAGS, *_V8_FLAGS))
            self.context = MiniRacer()
            self.context.set_hard_memory_limit(HEAP_LIMIT)
            self.context.eval(source)
            self.check: Any = self.context.eval("(text) => sdgenMermaid.check(text)")
            self.version = str(self.context.eval("sdgenMermaid.version"))
            self.parsed = 0
            release_free_memory()  # compiling the bundle leaves ~14 MB of scratch behind
        except Exception as exc:  # any engine failure at start is one line, not a traceback
            raise DiagramCheckUnavailableError(
                f"the Mermaid parser did not start: {exc}; run with --no-diagram-check") from exc

    def run(self, text: str) -> dict[str, Any]:
        # The limit covers both the synchronous start of the parse and the promise after it.
        started = time.monotonic()
        promise = self.check(text, timeout_sec=TIME_LIMIT)
        left = max(0.05, TIME_LIMIT - (time.monotonic() - started))
        verdict = dict(promise.get(timeout=left))
        self.parsed += 1
        if self.parsed % _COLLECT_EVERY == 0:
            # V8 grows its heap rather than collect; a long run keeps it small.
            self.context.low_memory_notification()
            release_free_memory()
        return verdict




_engine: _Engine | None = None
_lock = threading.Lock()
_cache: OrderedDict[str, Verdict] = OrderedDict()
_retired: list[_Engine] = []


def ensure_engine() -> str:
    """Start the engine now (a broken install fails here, before any call); its Mermaid version."""
    global _engine
    with _lock:
        if _engine is None:
            _engine = _Engine()
        return _engine.version


def engine_version() -> str:
    return ensure_engine()


def _kept_lines(source: str) -> list[int]:
    """The 0-based source lines Mermaid still sees after its own preprocessing (front matter
    removed, `%%{...}%%` directives blanked, `%%` comment lines and the blank lines before them
    removed, leading blank lines trimmed): its line N is source line kept[N-1]."""
    lines = source.split("\n")
    start = 0
    if lines and lines[0].strip() == "---":
        closing = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if closing is not None:
            start = closing + 1
    kept: list[int] = []
    for number in range(start, len(lines)):
        text = re.sub(r"%%\{.*?\}%%", "", lines[number])
        if re.match(r"^\s*%%(?!\{)\S", text) or re.match(r"^\s*%%(?!\{)[^\n]+", text):
            while kept and not lines[kept[-1]].strip():
                kept.pop()  # `^\s*%%` also swallows the blank lines before a comment
            continue
        kept.append(number)
    while kept and not re.sub(r"%%\{.*?\}%%", "", lines[kept[0]]).strip():
        kept.pop(0)
    return kept


def _in_words(message: str) -> str:
    """Mermaid's message on one line, its token names put into words."""
    expecting = re.search(r"Expecting (.+?), got '([^']+)'", message)
    if expecting:
        wanted = [_TOKENS.get(t, t) for t in re.findall(r"'([^']+)'", expecting.group(1))]
        wanted = list(dict.fromkeys(wanted))
        got = _TOKENS.get(expecting.group(2), expecting.group(2))
        shown = ", ".join(f'"{w}"' for w in wanted[:6]) + (" ..." if len(wanted) > 6 else "")
        return f'found "{got}" where Mermaid expects one of {shown}'
    text = " ".join(message.split())
    return re.sub(r"^Parse error on line \d+: ", "", text)[:300]


def _hint(message: str, line: str) -> str:
    """The fix for the mistakes models make most, when the finding points at one."""
    if re.search(r"got '(PS|SQS|DIAMOND_START|PIPE|TAGEND|STR|MINUS)'", message) and re.search(
            r"[\[({]", line):
        return (' Put a label that holds brackets, parentheses or quotes in double quotes, '
                'e.g. A["Load Balancer (L7)"].')
    return ""


def _verdict(source: str, raw: dict[str, Any]) -> Verdict:
    kind = friendly_kind(raw.get("kind"))
    if raw.get("ok"):
        return Verdict(True, kind)
    message = str(raw.get("message") or "Mermaid could not parse this diagram")
    first_word = source.strip().split(maxsplit=1)[0] if source.strip() else ""
    if first_word in NEEDS_PLUGIN:
        return Verdict(False, first_word, f"{NEEDS_PLUGIN[first_word]} diagrams need an Obsidian "
                       "plug-in to render; use a diagram kind Mermaid ships with", 1,
                       source.split("\n", 1)[0])
    if message.startswith("No diagram type detected"):
        return Verdict(False, None, f'"{first_word[:40]}" is not a Mermaid diagram type (start '
                       "with flowchart TD, sequenceDiagram, erDiagram, C4Context, ...)", 1,
                       source.split("\n", 1)[0])
    reported = raw.get("line")
    line = None
    source_line = ""
    kept = _kept_lines(source)
    if isinstance(reported, int | float) and kept:
        index = kept[min(max(int(reported), 1), len(kept)) - 1]
        line, source_line = index + 1, source.split("\n")[index]
    words = _in_words(message)
    own = " ".join(message.split())
    said = re.sub(r"^Parse error on line \d+: .*?(?=Expecting)", "", own)[:400]
    text = f"{words}.{_hint(message, source_line)}"
    if words != own:
        text += f" (Mermaid's message: {said})"
    return Verdict(False, kind, text, line, source_line.strip())


def _on_event_loop_thread() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def check_mermaid(source: str) -> Verdict:
    """Mermaid's verdict on one diagram's source (cached by its text)."""
    if _on_event_loop_thread():
        # mini-racer refuses a time limit on a thread that runs an event loop (it wants the
        # call awaited there): such a caller's diagram is judged on a thread of its own.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(check_mermaid, source).result()
    key = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    ensure_engine()
    global _engine
    with _lock:
        assert _engine is not None
        try:
            verdict = _verdict(source, _engine.run(source))
        except Exception as exc:  # a time limit, the heap limit, an engine fault
            # A fresh engine for the next diagram. The old one is kept, not closed: V8 may
            # still call back for the abandoned parse, and a closed engine's event loop would
            # turn that callback into an error.
            _retired.append(_engine)
            _engine = None
            reason = type(exc).__name__
            verdict = Verdict(False, None, f"Mermaid's parser gave up on this diagram ({reason}): "
                              "simplify it", None, "")
        _cache[key] = verdict
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return verdict
