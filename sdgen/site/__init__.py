"""Stage 7, the vault as a static website (mkdocs-material), sanitised and self-hosted."""

from __future__ import annotations

from ._build import INSTALL_HINT, build_site, require_mkdocs
from ._pages import SitePage, SiteProblem, SiteResult, site_pages
from ._sanitize import clean_page_html, text_only

__all__ = [
    "INSTALL_HINT",
    "SitePage",
    "SiteProblem",
    "SiteResult",
    "build_site",
    "clean_page_html",
    "require_mkdocs",
    "site_pages",
    "text_only",
]
