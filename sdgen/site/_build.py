"""The vault as a static website, readable on any device without Obsidian.

    sdgen site --out output --site site

Each note of the vault becomes a page of an mkdocs-material site whose configuration sdgen writes:
navigation follows the vault (home note, persona, category, note, in index order), callouts
become admonitions, wikilinks page links, front matter a title, tags and a line of properties.
Mermaid is drawn in the page by the same Mermaid version the content check pins, served from the
site itself: the site works offline and from a file share, and asks no other host for anything.
A note is a model's answer: each page's content HTML is cleaned by an allowlist (_sanitize,
run by the mkdocs hook in _hooks.py), its titles and tags are text, and the pages' Content
Security Policy runs no inline script (the theme's own are files: _assets/overrides/).

The site is built in a folder beside its destination and swapped in whole: an interrupted build
leaves the previous site as it was, and two builds into one site take turns (a lock file beside
it). A diagram Mermaid's parser rejects is reported by note and page (the page shows Mermaid's
error picture, as Obsidian would), and the site still builds.

Here: the mkdocs configuration, the build, its swap and its lock; the pages and their navigation
are _pages'.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from ..check import MERMAID_DIR, DiagramCheckUnavailableError
from ..errors import SiteError
from ..vault import HOME_TITLE
from ._pages import SitePage, SiteResult, navigation, site_pages, write_pages

__all__ = ["INSTALL_HINT", "build_site", "require_mkdocs"]

INSTALL_HINT = "pip install 'sdgen[site]'"
ASSETS = Path(__file__).resolve().parent / "_assets"
MERMAID = MERMAID_DIR / "mermaid.min.js"  # the version the diagram check pins, drawn in the page
HOOKS = Path(__file__).resolve().parent / "_hooks.py"  # each page's content sanitised
MARKER = ".sdgen-site"  # in a folder sdgen built: the only kind of folder it replaces


def require_mkdocs() -> None:
    """Fail in one line, saying how to install it, when the ``site`` extra is missing."""
    try:
        import material  # noqa: F401
        import mkdocs  # noqa: F401
    except ImportError:
        raise SiteError(f"sdgen site needs mkdocs-material: {INSTALL_HINT}") from None


# The mkdocs configuration sdgen writes.

class _PythonName:
    """A Python object named in the configuration (``!!python/name:module.name``)."""

    def __init__(self, name: str) -> None:
        self.name = name


class _PythonCall:
    """A Python call's result in the configuration (``!!python/object/apply:module.name``)."""

    def __init__(self, name: str, **kwds: Any) -> None:
        self.name, self.kwds = name, kwds


class _ConfigDumper(yaml.SafeDumper):
    """YAML as mkdocs reads it: plain data, and the two Python tags its extensions take, from
    objects of their own, so no word of a note's title or category can ever become one."""


def _represent_name(dumper: yaml.SafeDumper, value: _PythonName) -> yaml.Node:
    return dumper.represent_scalar(f"tag:yaml.org,2002:python/name:{value.name}", "")


def _represent_call(dumper: yaml.SafeDumper, value: _PythonCall) -> yaml.Node:
    return dumper.represent_mapping(f"tag:yaml.org,2002:python/object/apply:{value.name}",
                                    {"kwds": value.kwds})


_ConfigDumper.add_representer(_PythonName, _represent_name)
_ConfigDumper.add_representer(_PythonCall, _represent_call)


def _config(pages: list[SitePage], site_dir: Path, title: str) -> str:
    config = {
        "site_name": title,
        "docs_dir": "docs",
        "site_dir": str(site_dir),
        "use_directory_urls": False,  # page.html links: the site opens from a file share too
        "theme": {
            "name": "material",
            "custom_dir": "overrides",
            "font": False,  # no Google Fonts: the site asks no other host for anything
            "features": ["navigation.indexes", "navigation.top", "navigation.footer",
                         "search.highlight", "content.code.copy", "toc.follow"],
        },
        "plugins": ["search", "tags", "offline"],  # offline: search works from a file share too
        "hooks": ["sdgen_hooks.py"],
        "markdown_extensions": [
            {"toc": {"permalink": True,
                     "slugify": _PythonCall("pymdownx.slugs.slugify", case="lower")}}, "admonition",
            # No attr_list: "{: onclick=...}" in a note would give any element any attribute.
            "pymdownx.details", "md_in_html", "tables", "footnotes", "def_list",
            "pymdownx.tilde", "pymdownx.mark", "sane_lists",  # an ordered list keeps its start
            "nl2br",  # a single line break is a break, as Obsidian shows it by default
            {"pymdownx.tasklist": {"custom_checkbox": True}},
            {"pymdownx.arithmatex": {"generic": True}},  # $...$ and $$...$$, drawn by KaTeX
            {"pymdownx.superfences": {"custom_fences": [
                {"name": "mermaid", "class": "mermaid-diagram",
                 "format": _PythonName("pymdownx.superfences.fence_div_format")}]}},
        ],
        "extra_css": ["assets/katex/katex.min.css", "assets/sdgen.css"],
        "extra_javascript": ["assets/mermaid.min.js", "assets/katex/katex.min.js",
                             "assets/katex/auto-render.min.js", "assets/sdgen-site.js"],
        # Served from the site: the offline plugin would fetch it from unpkg.com.
        "extra": {"polyfills": ["assets/iframe-worker-shim.js"]},
        "validation": {"nav": {"omitted_files": "warn", "not_found": "warn"},
                       "links": {"not_found": "warn", "anchors": "warn",
                                 "unrecognized_links": "warn"}},
        "nav": navigation(pages),
    }
    return yaml.dump(config, Dumper=_ConfigDumper, allow_unicode=True, sort_keys=False)


def _write_source(pages: list[SitePage], source: Path, site: Path, result: SiteResult,
                  diagram_check: bool) -> Path:
    docs = source / "docs"
    write_pages(pages, docs, result, diagram_check)
    assets = docs / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    for name in ("sdgen.css", "sdgen-site.js", "sdgen-theme.js", "iframe-worker-shim.js",
                 "iframe-worker-frame.js"):
        shutil.copyfile(ASSETS / name, assets / name)
    shutil.copyfile(MERMAID, assets / "mermaid.min.js")
    shutil.copytree(ASSETS / "katex", assets / "katex")
    shutil.copytree(ASSETS / "overrides", source / "overrides")
    shutil.copyfile(HOOKS, source / "sdgen_hooks.py")
    config = source / "mkdocs.yml"
    config.write_text(_config(pages, site, HOME_TITLE), encoding="utf-8")
    return config


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(" ".join(record.getMessage().split()))


@contextmanager
def _mkdocs_warnings() -> Iterator[list[str]]:
    """mkdocs's warnings collected, not printed (sdgen words the outcome itself)."""
    logger = logging.getLogger("mkdocs")
    handler = _Warnings()
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _mkdocs_build(config_file: Path, site_dir: Path) -> list[str]:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    with _mkdocs_warnings() as warnings:
        try:
            config = load_config(str(config_file), strict=False, site_dir=str(site_dir))
            build(config)
        except MkDocsException as exc:
            raise SiteError(f"mkdocs could not build the site: {exc}") from None
    return warnings


def _check_replaceable(folder: Path) -> None:
    if folder.exists() and (not folder.is_dir()
                            or (any(folder.iterdir()) and not (folder / MARKER).is_file())):
        raise SiteError(f"{folder}: exists and is not a folder sdgen site wrote; choose another")


@contextmanager
def _locked(folders: list[Path]) -> Iterator[None]:
    """Each folder's lock held (a file beside it, ``.<name>.sdgen-lock``), in one order: two
    builds into one folder take turns, the second waiting for the first to swap its site in.
    The system lets go of a lock when its process ends, however it ends."""
    import fcntl

    descriptors: list[int] = []
    try:
        for folder in sorted(set(folders)):
            folder.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(folder.parent / f".{folder.name}.sdgen-lock",
                             os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise SiteError(f"{folder.parent}: cannot write: {exc.strerror}") from None
            descriptors.append(fd)
            with contextlib.suppress(OSError):  # a file system with no locks: build unlocked
                fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        for fd in descriptors:
            os.close(fd)  # closing the descriptor lets go of the lock


def _replace(folder: Path, built: Path, work: Path) -> None:
    """Put a built folder where the old one was, in two renames."""
    (built / MARKER).write_text("written by sdgen site; replaced whole by the next build\n",
                                encoding="utf-8")
    if folder.exists():
        folder.rename(work / f"previous-{folder.name}")
    os.replace(built, folder)


def build_site(out: Path, site: Path, *, diagram_check: bool = True,
               source: Path | None = None) -> SiteResult:
    """Build the static site of the vault ``out`` into ``site`` (replacing the previous build);
    with ``source``, keep there the mkdocs source it was built from (``mkdocs.yml`` and pages),
    for ``mkdocs build`` or ``mkdocs serve`` by hand."""
    require_mkdocs()
    started = time.perf_counter()
    out, site = out.resolve(), site.resolve()
    kept = source.resolve() if source is not None else None
    for folder in (site, *([kept] if kept else [])):
        if folder == out or out.is_relative_to(folder):
            raise SiteError(f"{folder}: cannot hold the vault it is built from")
        _check_replaceable(folder)  # before any lock file is written beside it; again below
    pages = site_pages(out)
    if not [p for p in pages if not p.index]:
        raise SiteError(f"{out}: no notes to publish (write some with sdgen generate)")
    result = SiteResult(site)
    with _locked([site, *([kept] if kept else [])]):
        for folder in (site, *([kept] if kept else [])):
            _check_replaceable(folder)  # as it is now, once the build before has swapped
        with tempfile.TemporaryDirectory(prefix=".sdgen-site-", dir=site.parent) as temporary:
            work = Path(temporary)
            try:
                config = _write_source(pages, work / "source", site, result, diagram_check)
            except DiagramCheckUnavailableError as exc:
                raise SiteError(f"{exc} (sdgen site --no-diagram-check builds without it)") from None
            result.warnings = _mkdocs_build(config, work / "site")
            _replace(site, work / "site", work)
            if kept is not None:
                _replace(kept, work / "source", work)
    result.seconds = time.perf_counter() - started
    return result
