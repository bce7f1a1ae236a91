"""A third-party provider, as a plug-in would ship one: its own key variable, registered by name."""

from __future__ import annotations

import logging
import os
from typing import ClassVar

from sdgen.compose import Prompt
from sdgen.providers import Completion, ProviderSettings, TextCallback, Usage
from tests.helpers import answer

log = logging.getLogger("echo_provider")


class EchoProvider:
    name: ClassVar[str] = "echo"
    default_model: ClassVar[str] = "echo-1"
    key_env: ClassVar[str | None] = "ECHO_API_KEY"
    offline: ClassVar[bool] = False

    def __init__(self, settings: ProviderSettings) -> None:
        self.model = settings.model or self.default_model
        self._key = os.environ[self.key_env or ""]

    async def complete(self, prompt: Prompt, on_text: TextCallback | None = None) -> Completion:
        # A careless plug-in logs its key, and a model may echo whatever it was shown.
        log.debug("POST https://echo.invalid/v1 with key %s", self._key)
        text = answer("obsidian_valid.md") + f"\nThe service was reached with {self._key}.\n"
        return Completion(text=text, finish_reason="stop", usage=Usage(10, 20),
                          provider=self.name, model=self.model)

    async def aclose(self) -> None:
        return None
