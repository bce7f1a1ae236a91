"""Only what a reader sees as a drawing counts as a diagram: real answers edited one diagram at a
time (a Mermaid flowchart swapped for an Excalidraw fence of words, an SVG, a comment)."""

from __future__ import annotations

import pytest

from sdgen.check import CheckedReport, ValidationOptions, validate_document
from sdgen.compose import Topic, compose, load_persona
from sdgen.markdown import parse_document
from sdgen.repair import check_answer
from tests.helpers import answer

HLD = "High-Level Architecture (HLD)"
FLOWCHART = ("```mermaid\nflowchart LR\n    C[Clients] --> LB[Azure Front Door]\n"
             "    LB --> GW[API Gateway + limiter sidecar]\n")


def _hld_drawn_as(drawing: str, diagram_check: bool = True) -> tuple[str, CheckedReport]:
    """The real obsidian answer with its HLD flowchart replaced by ``drawing``."""
    text = answer("obsidian_valid.md")
    start = text.index(FLOWCHART)
    end = text.index("```\n", start + len(FLOWCHART)) + 4
    edited = text[:start] + drawing + text[end:]
    body, _ = check_answer(load_persona("obsidian"), Topic("Rate Limiter"), edited)
    report = validate_document(parse_document(body), load_persona("obsidian").spec,
                               ValidationOptions(diagram_check=diagram_check),
                               Topic("Rate Limiter"))
    assert isinstance(report, CheckedReport)
    return body, report


def _hld(report: CheckedReport) -> list[str]:
    return [str(p) for s in report.sections if s.title == HLD for p in s.problems]


def _renders(report: CheckedReport) -> tuple[bool, str, str | None, int | None]:
    result = next(r for r in report.requirements if r.id == "diagrams-render")
    return result.ok, result.severity, result.section, result.line


def test_the_real_answer_draws_its_diagrams() -> None:
    _, report = _hld_drawn_as(FLOWCHART + "    GW --> S[Backend services]\n```\n")
    assert report.valid, report.summary()
    assert _renders(report) == (True, "should", None, None)


@pytest.mark.parametrize("info", ["excalidraw", "plantuml", "dot", "graphviz", "d2"])
def test_a_fence_obsidian_shows_as_code_is_no_diagram_and_a_finding_at_its_line(
        info: str) -> None:
    body, report = _hld_drawn_as(f"```{info}\nClients -> Gateway -> Redis\n"
                                 "Gateway -> Backend services\n```\n")
    assert not report.valid
    assert "needs a diagram" in " ".join(_hld(report))
    line = body.split("\n").index(f"```{info}") + 1
    assert _renders(report) == (False, "should", HLD, line)
    result = next(r for r in report.requirements if r.id == "diagrams-render")
    assert f"```{info} block" in result.message and "Obsidian shows" in result.message
    assert any("diagrams-render" in str(w) for s in report.sections if s.title == HLD
               for w in s.warnings)


def test_an_excalidraw_fence_beside_a_real_diagram_is_a_finding_only() -> None:
    body, report = _hld_drawn_as(FLOWCHART + "```\n\n```excalidraw\nGateway -> Redis\n```\n")
    assert report.valid, report.summary()
    line = body.split("\n").index("```excalidraw") + 1
    assert _renders(report) == (False, "should", HLD, line)


def test_a_mermaid_block_of_only_a_comment_is_no_diagram_even_unparsed() -> None:
    # Mermaid says "No diagram type detected"; with its parser off, the block still draws nothing.
    _, report = _hld_drawn_as("```mermaid\n%% the architecture goes here\n```\n",
                              diagram_check=False)
    assert "needs a diagram" in " ".join(_hld(report))


SVG_BOXES = ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60">'
             '<rect x="1" y="1" width="80" height="40"/><text x="5" y="25">Gateway</text>'
             '</svg>')


def test_a_fenced_svg_that_draws_a_shape_is_a_diagram() -> None:
    _, report = _hld_drawn_as(f"```svg\n{SVG_BOXES}\n```\n")
    assert "needs a diagram" not in " ".join(_hld(report))


def test_an_inline_svg_that_draws_a_shape_is_a_diagram() -> None:
    _, report = _hld_drawn_as(f"{SVG_BOXES}\n")
    assert "needs a diagram" not in " ".join(_hld(report))


@pytest.mark.parametrize("svg", [
    '<svg xmlns="http://www.w3.org/2000/svg"><text x="5" y="25">Gateway</text></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><rect x="1" y="1" width="80"></svg>',
    '<html><rect x="1" y="1" width="80" height="40"/></html>',
    '<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">]><svg><rect width="&a;"/></svg>',
])
def test_an_svg_that_draws_nothing_or_does_not_parse_is_no_diagram(svg: str) -> None:
    _, report = _hld_drawn_as(f"```svg\n{svg}\n```\n")
    assert "needs a diagram" in " ".join(_hld(report))


def test_a_fenced_ascii_box_diagram_is_a_diagram() -> None:
    _, report = _hld_drawn_as("```\n┌────────┐     ┌─────────┐\n│ Client │ ──▶ │ Gateway │\n"
                              "└────────┘     └─────────┘\n```\n")
    assert "needs a diagram" not in " ".join(_hld(report))


def test_the_obsidian_prompt_says_how_to_draw_a_whiteboard_sketch_that_renders() -> None:
    system = compose(load_persona("obsidian"), Topic("Rate Limiter")).system
    advice = system[system.index("Obsidian shows a fenced `excalidraw`"):]
    assert "draw it as a Mermaid\n  flowchart" in advice
