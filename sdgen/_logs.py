"""Log lines: one handler on standard error, and no secret in any line, whoever logs it."""

from __future__ import annotations

import logging
from typing import TextIO

__all__ = ["configure_logging"]


class _RedactKeys(logging.Filter):
    """Keys never reach a log line, whatever logs it (the SDKs' and HTTP clients' debug logs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from .providers import known_secrets, redact  # loaded with the first log line

        message = record.getMessage()
        cleaned = redact(message, *known_secrets())
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure_logging(verbose: bool, err: TextIO) -> None:
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_RedactKeys())
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not getattr(h, "_sdgen", False)]
    handler._sdgen = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    # The parser's rule-by-rule trace is noise even when debugging sdgen.
    logging.getLogger("markdown_it").setLevel(logging.WARNING)
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2", "openai", "anthropic"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
