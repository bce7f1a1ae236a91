from __future__ import annotations

import re

import pytest

from sdgen.cli import run
from sdgen.compose import Topic, compose, fix_mojibake, list_personas, load_persona, looks_mojibaked

RESIDUE = re.compile(r"ğŸ|â€|Ã|Â")


def test_emoji_prompt_has_its_eight_headings_with_intended_emoji() -> None:
    system = compose(load_persona("emoji"), Topic("Rate Limiter")).system
    for heading in ["1. 🔍 Overview & Key Concepts", "2. 🏗️ Architecture Components",
                    "3. 🔄 Data Flow", "4. ⚖️ Trade-offs", "5. 📊 Scalability",
                    "6. 🛠️ Implementation", "7. 🚨 Common Pitfalls", "8. 💡 Best Practices"]:
        assert heading in system


def test_box_characters_and_arrows_are_intact() -> None:
    system = compose(load_persona("emoji"), Topic("Rate Limiter")).system
    assert "┌─┐ │ │ └─┘" in system
    assert "→ ← ↑ ↓ ⟷" in system


@pytest.mark.parametrize("name", sorted(list_personas()))
def test_no_mojibake_residue_in_any_composed_prompt(name: str) -> None:
    system = compose(load_persona(name), Topic("Rate Limiter")).system
    assert not RESIDUE.search(system), RESIDUE.search(system)
    assert not looks_mojibaked(system)


def test_visual_guide_repairs_its_box_corners() -> None:
    seed = load_persona("visual").seed_text
    assert "┌─────────────────────────────────────────┐" in seed
    assert "Cons: ❌ Hard to scale parts independently" in seed
    assert not RESIDUE.search(seed)


def test_repair_is_deterministic_and_reports_choices() -> None:
    raw = "ğŸ” Overview\nâ”Œâ”€â” box\n"
    first, second = fix_mojibake(raw), fix_mojibake(raw)
    assert first == second
    assert first.text == "🔍 Overview\n┌─┐ box\n"
    chosen = {r.chosen for r in first.fixes}
    assert chosen == {"🔍", "┐"}
    assert all(len(r.candidates) > 1 and r.rule for r in first.fixes)


def test_variation_selector_after_emoji_is_restored() -> None:
    assert fix_mojibake("ğŸ—„ï¸ for database").text == "🗄️ for database"


def test_clean_text_is_untouched() -> None:
    text = "Café déjà vu — naïve résumé 🚀 ┌─┐"
    assert fix_mojibake(text).text == text
    assert fix_mojibake(text).fixes == ()


def test_personas_show_repairs_lists_the_ambiguous_choices(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["personas", "show", "emoji", "--repairs"]) == 0
    out = capsys.readouterr().out
    assert "'ğŸ”' -> '🔍'" in out
    assert "other candidates" in out
    assert run(["personas", "show", "obsidian", "--repairs"]) == 0
    assert "needed no choice" in capsys.readouterr().out
