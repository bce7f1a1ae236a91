"""Building the static site: the demo vault, and a vault of N realistic notes (default 100).

    python -m bench.site [NOTES]

The demo vault is the shipped demo replayed offline (seven notes, five personas); the larger
vault is N full 13-section obsidian notes of about 53 KB each (bench/notes.py), linked to each
other and indexed as a run leaves them. Prints the build time of each, with and without the
diagram check, and the pages and diagrams built.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _demo(folder: Path) -> Path:
    from sdgen.cli import run

    out = folder / "demo"
    code = run(["generate", "--index", str(ROOT / "examples" / "topics.yaml"), "--replay",
                str(ROOT / "examples" / "recordings"), "--out", str(out), "-q"])
    if code:
        raise SystemExit(f"demo replay failed with exit {code}")
    return out


def _large(folder: Path, count: int) -> Path:
    from bench.links import build_vault
    from sdgen.vault import link_vault, update_index, write_home

    out = folder / "large"
    build_vault(out, count)
    link_vault(out)
    update_index(out / "obsidian", "obsidian")
    write_home(out)
    return out


def _time(out: Path, site: Path, diagram_check: bool) -> str:
    from sdgen.site import build_site

    started = time.perf_counter()
    result = build_site(out, site, diagram_check=diagram_check)
    seconds = time.perf_counter() - started
    if not result.clean:
        raise SystemExit(f"{out.name}: {result.problems[:3]} {result.warnings[:3]}")
    check = f"{result.diagrams} diagrams checked" if diagram_check else "no diagram check"
    return f"{seconds:.2f} s ({result.pages} pages, {check})"


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 100
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        demo, large = _demo(folder), _large(folder, count)
        # The first build pays for importing mkdocs and starting the diagram engine: warm up.
        _time(demo, folder / "warm", diagram_check=True)
        for name, out in (("demo vault", demo), (f"{count}-note vault", large)):
            print(f"{name}: {_time(out, folder / 'site', True)}; "
                  f"{_time(out, folder / 'site', False)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
