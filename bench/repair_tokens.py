"""Tokens a targeted repair costs against a whole-document retry, on the same broken answers.

    python -m bench.repair_tokens

Each case is a realistic valid answer with one section broken. Both repairs are composed exactly
as sdgen sends them; tokens are estimated as UTF-8 bytes / 4 (the dry-run estimate), and the
output of each repair is what it must return: the one section, or the whole document.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from sdgen.budget import estimate_tokens
from sdgen.compose import Topic, compose, compose_followup, load_persona
from sdgen.markdown import parse_document
from sdgen.repair import ask_for_sections, check_answer, extract_sections, targets_for

ANSWERS = Path(__file__).resolve().parents[1] / "tests" / "data" / "answers"

# (persona, answer file, pattern removed to break one section)
CASES = [
    ("obsidian", "obsidian_valid.md", r"```mermaid\nflowchart LR.*?```\n"),
    ("emoji", "emoji_valid.md", r"(?<=## 3\. 🔄 Data Flow & Interactions\n\n)```text.*?```\n"),
    ("senior", "senior_valid.md", r"(?<=### 5\. Code Examples \(When Applicable\)\n)"
                                  r"─+\n\n```python.*?```\n"),
    ("interview", "interview_valid.md", r"```mermaid\nC4Container.*?```\n"),
]


def _tokens(text: str) -> int:
    return estimate_tokens(text)


def main() -> int:
    rows = []
    for persona_name, file, pattern in CASES:
        persona = load_persona(persona_name)
        topic = Topic("Topic")
        good = (ANSWERS / file).read_text(encoding="utf-8")
        bad = re.sub(pattern, "", good, count=1, flags=re.S)
        body, report = check_answer(persona, topic, bad)
        assert not report.valid, persona_name
        prompt = compose(persona, topic)
        failing = [i for i, s in enumerate(report.sections) if s.problems]
        targets = targets_for(persona, parse_document(body), failing, report)
        targeted = ask_for_sections(persona, body, targets, prompt)
        good_body, _ = check_answer(persona, topic, good)
        section_out = "".join(extract_sections(persona, good_body, targets).values())
        whole = compose_followup(persona, prompt, bad, "repair.md.j2", problems=report.summary())
        t_in = sum(_tokens(m.content) for m in targeted.messages)
        t_out = _tokens(section_out)
        w_in = sum(_tokens(m.content) for m in whole.messages)
        w_out = _tokens(good)
        rows.append([persona_name, ", ".join(t.title for t in targets), f"{t_in:,} + {t_out:,}",
                     f"{w_in:,} + {w_out:,}", f"{(t_in + t_out) / (w_in + w_out):.2f}",
                     f"{t_out / w_out:.2f}"])
    header = ["persona", "broken section", "targeted in + out", "whole in + out",
              "total ratio", "output ratio"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
