"""A hard cap on what a run may spend (`--max-cost USD`).

Before each request its worst case is reserved against the cap: the input (estimated from the
messages) plus the whole output budget, at list price. When the answer comes, the reservation is
settled at what the provider reports it used. When the next request could cross the cap, no new
request starts: calls already in flight finish, every finished note is kept, and the topics left
are unfinished, for a rerun with a higher cap.
"""

from __future__ import annotations

import threading

from .errors import SdgenError
from .estimate import Price
from .prompt import Prompt
from .providers.base import Completion, Provider, TextCallback

__all__ = ["CappedProvider", "SpendingCap", "SpendingCapReached", "worst_case"]


class SpendingCapReached(SdgenError):
    """The next request could cross the spending cap: the run starts no new request (exit 3)."""

    exit_code = 3


def worst_case(prompt: Prompt, price: Price) -> float:
    """The most one request can cost: its input (UTF-8 bytes / 4) and its whole output budget."""
    input_tokens = sum(len(m.content.encode("utf-8")) for m in prompt.messages) // 4
    return (input_tokens * price.input + prompt.config.max_tokens * price.output) / 1e6


class SpendingCap:
    """Money spent and reserved, against a cap, shared by every request of a run."""

    def __init__(self, cap: float, price: Price) -> None:
        self.cap, self.price = cap, price
        self.spent = self.reserved = 0.0
        self._lock = threading.Lock()

    def reserve(self, prompt: Prompt) -> float:
        amount = worst_case(prompt, self.price)
        with self._lock:
            if self.spent + self.reserved + amount > self.cap:
                raise SpendingCapReached(
                    f"spending cap ${self.cap:.4f} reached: ${self.spent:.4f} spent, "
                    f"${self.reserved:.4f} in flight, the next request could cost up to "
                    f"${amount:.4f}; rerun with a higher --max-cost to finish the rest")
            self.reserved += amount
        return amount

    def settle(self, reserved: float, completion: Completion | None) -> None:
        """Replace a reservation by what the answer cost: its reported usage (an answer with no
        usage reported: the worst case; a request that failed: nothing, providers do not bill
        errors)."""
        cost = reserved if completion is not None else 0.0
        if completion is not None and completion.usage.input_tokens + completion.usage.output_tokens:
            cost = (completion.usage.input_tokens * self.price.input
                    + completion.usage.output_tokens * self.price.output) / 1e6
        with self._lock:
            self.reserved -= reserved
            self.spent += cost


class CappedProvider:
    """A provider whose every request is reserved against a spending cap first."""

    def __init__(self, inner: Provider, cap: SpendingCap) -> None:
        self.inner, self.cap = inner, cap
        self.name, self.model = inner.name, inner.model
        self.key_env, self.offline = inner.key_env, inner.offline

    async def complete(self, prompt: Prompt, on_text: TextCallback | None = None) -> Completion:
        reserved = self.cap.reserve(prompt)
        completion: Completion | None = None
        try:
            completion = await self.inner.complete(prompt, on_text)
            return completion
        finally:
            self.cap.settle(reserved, completion)

    async def aclose(self) -> None:
        await self.inner.aclose()
