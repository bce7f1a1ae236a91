"""A hard cap on what a run may spend (`--max-cost USD`).

Before each request its worst case is reserved against the cap: the input (estimated from the
messages) plus the whole output budget, at list price; so is each retry of it. When the answer
comes, the reservation is settled at its usage, as every figure of the run counts it (what the
provider reports, where the request allows it; else what the text shows); a try that failed after
the server may have produced output (a cut stream, a timeout) is paid at its worst case, one
answered with an HTTP error costs nothing. When the next request could cross the cap, no new
request starts: calls already in flight finish, every finished note is kept, and the topics left
are unfinished, for a rerun with a higher cap.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from ..compose import Prompt
from ..errors import SpendingCapReached
from ..providers import ATTEMPT_BUDGET, Completion, Provider, TextCallback, plausible_usage
from ._estimate import Price

__all__ = ["CappedProvider", "SpendingCap", "SpendingCapReached", "worst_case"]


def worst_case(prompt: Prompt, price: Price) -> float:
    """The most one request can cost: its input (as a dry run estimates it) and its whole output
    budget."""
    return price.cost(prompt.input_tokens_held, prompt.config.max_tokens)


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

    def cover_whole(self, prompts: list[Prompt], what: str) -> None:
        """Refuse, before anything is sent, a set of requests sent as one (a provider batch)
        whose worst case the cap does not cover: it cannot be stopped halfway."""
        amount = sum(worst_case(prompt, self.price) for prompt in prompts)
        if amount > self.cap - self.spent - self.reserved:
            raise SpendingCapReached(
                f"spending cap ${self.cap:.4f}: {what} of {len(prompts)} request(s) could cost up "
                f"to ${amount:.4f} at list price and is sent whole; raise --max-cost or send "
                "fewer topics")

    def settle(self, reserved: float, cost: float) -> None:
        """Replace a reservation by what was spent."""
        with self._lock:
            self.reserved -= reserved
            self.spent += cost

    def cost(self, completion: Completion) -> float:
        """What an answer cost at its usage, as every figure of the run counts it (the table,
        the run report, the note): the server's where the request allows it, else what its
        text shows (see ``plausible_usage``), so a server that reports nothing, too little or
        an absurd amount neither widens the cap nor stops the run."""
        return self.price.cost(completion.usage.input_tokens, completion.usage.output_tokens)


class _RequestBudget:
    """One request's hold on the cap, try by try (see ``AttemptBudget``): a try that failed
    after the server may have produced output is paid at its worst case, and the next try is
    reserved afresh, so retries cannot cross the cap either."""

    def __init__(self, cap: SpendingCap, prompt: Prompt) -> None:
        self.cap, self.prompt = cap, prompt
        self.held = cap.reserve(prompt)

    def attempt_failed(self, billed: bool) -> None:
        if billed and self.held:
            self.cap.settle(self.held, self.held)
            self.held = 0.0

    def again(self) -> None:
        if not self.held:
            self.held = self.cap.reserve(self.prompt)

    def close(self, completion: Completion | None) -> None:
        """The request is over: an answer is paid at its usage; a request that failed has
        paid for its tries already."""
        self.cap.settle(self.held, 0.0 if completion is None else self.cap.cost(completion))
        self.held = 0.0


class CappedProvider:
    """A provider whose every request, and every retry of it, is held against a spending cap.
    A provider built on the shared retry loop (``call_with_retries``) reports each try; a
    plug-in that retries on its own is held at one worst case per request."""

    def __init__(self, inner: Provider, cap: SpendingCap) -> None:
        self.inner, self.cap = inner, cap
        self.name, self.model = inner.name, inner.model
        self.key_env, self.offline = inner.key_env, inner.offline

    async def complete(self, prompt: Prompt, on_text: TextCallback | None = None) -> Completion:
        budget = _RequestBudget(self.cap, prompt)
        token = ATTEMPT_BUDGET.set(budget)
        completion: Completion | None = None
        try:
            completion = await self.inner.complete(prompt, on_text)
            # The built-in providers count usage so already; a plug-in's is counted here, so
            # the cap and every other figure of the run agree.
            usage = plausible_usage(completion.usage, prompt, completion.text, completion.provider)
            if usage != completion.usage:
                completion = replace(completion, usage=usage)
            return completion
        finally:
            ATTEMPT_BUDGET.reset(token)
            budget.close(completion)

    async def aclose(self) -> None:
        await self.inner.aclose()
