"""Personas are data: a folder ``prompts/<name>/`` with ``persona.toml`` and Jinja2 templates.

The persona's seed (a system prompt someone wrote) is read from the folder or from ``seeds/``
and repaired of mojibake on load.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from .._files import inside
from ..errors import PersonaError
from ._mojibake import MojibakeFix, fix_mojibake
from ._schema import PersonaSpec

__all__ = ["Persona", "list_personas", "load_persona", "prompts_root", "seeds_root"]

SPEC_FILE = "persona.toml"
SHARED_FOLDER = "_shared"


def _data_root(name: str) -> Path:
    """Bundled data in a built wheel, else the repository checkout (editable install)."""
    package = Path(__file__).resolve().parent.parent  # sdgen/
    bundled = package / "_bundled" / name
    return bundled if bundled.is_dir() else package.parent / name


def prompts_root() -> Path:
    return _data_root("prompts")


def seeds_root() -> Path:
    return _data_root("seeds")


@dataclass(frozen=True)
class Persona:
    """A loaded persona: its spec, its folder, and its repaired seed text."""

    spec: PersonaSpec
    folder: Path
    seed_text: str
    seed_fixes: tuple[MojibakeFix, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    def template_dirs(self) -> list[Path]:
        """Where this persona's templates are looked up: its folder, then the shared ones."""
        return [self.folder, self.folder.parent / SHARED_FOLDER, prompts_root() / SHARED_FOLDER]


def _roots(extra: Sequence[Path]) -> list[Path]:
    # User folders first, so a user's persona can shadow a built-in one of the same name.
    return [*extra, prompts_root()]


def list_personas(extra_roots: Sequence[Path] = ()) -> dict[str, Path]:
    """Every persona folder found, by name (first root wins)."""
    found: dict[str, Path] = {}
    for root in _roots(extra_roots):
        if not root.is_dir():
            continue
        for folder in sorted(root.iterdir()):
            if (folder / SPEC_FILE).is_file():
                found.setdefault(folder.name, folder)
    return found


def _read_seed(spec: PersonaSpec, folder: Path, spec_path: Path) -> str:
    for root in (folder, seeds_root()):
        candidate = root / spec.seed
        if not inside(root, candidate):
            continue  # a seed is the persona's own file or one of the seeds, nothing else
        if candidate.is_file():
            try:
                return candidate.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise PersonaError(f"{candidate}: cannot read seed: {exc}") from exc
    if Path(spec.seed).is_absolute() or ".." in Path(spec.seed).parts:
        raise PersonaError(f"{spec_path}: seed {spec.seed!r} is outside the persona's folder "
                           f"and the seeds folder")
    raise PersonaError(f"{spec_path}: seed {spec.seed!r} not found in {folder} or {seeds_root()}")


def load_persona(name: str, extra_roots: Sequence[Path] = ()) -> Persona:
    """Load a persona by name; an unknown name suggests the closest one."""
    available = list_personas(extra_roots)
    if name not in available:
        close = difflib.get_close_matches(name, list(available), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        known = ", ".join(sorted(available)) or "none"
        raise PersonaError(f"unknown persona {name!r}{hint} (known: {known})")
    folder = available[name]
    spec_path = folder / SPEC_FILE
    try:
        raw = tomllib.loads(spec_path.read_text(encoding="utf-8"))
        spec = PersonaSpec.model_validate({**raw, "name": name})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PersonaError(f"{spec_path}: cannot load persona spec: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PersonaError(f"{spec_path}: invalid persona spec at {where}: {first['msg']}") from exc
    repaired = fix_mojibake(_read_seed(spec, folder, spec_path))
    return Persona(spec=spec, folder=folder, seed_text=repaired.text, seed_fixes=repaired.fixes)
