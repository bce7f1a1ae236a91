"""Global request and token budgets per minute, shared by every call of a run.

Calls are paced at the configured rate rather than sent in a burst and bounced off 429s: a
bucket refills continuously and holds at most a couple of seconds of budget. A 429 with
Retry-After pauses every caller, not only the one that was told.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = ["RateLimiter", "TokenBucket"]


@dataclass
class TokenBucket:
    """A continuously refilling budget of ``per_minute`` units."""

    per_minute: float
    burst_seconds: float = 2.0
    clock: Callable[[], float] = time.monotonic
    _level: float = field(init=False)
    _stamp: float = field(init=False)

    def __post_init__(self) -> None:
        self._level = self.capacity
        self._stamp = self.clock()

    @property
    def rate(self) -> float:
        return self.per_minute / 60.0

    @property
    def capacity(self) -> float:
        return max(1.0, self.rate * self.burst_seconds)

    def _refill(self, now: float) -> None:
        self._level = min(self.capacity, self._level + (now - self._stamp) * self.rate)
        self._stamp = now

    def wait_time(self, amount: float) -> float:
        """Seconds until ``amount`` is available (0 when it is), without taking it."""
        self._refill(self.clock())
        amount = min(amount, self.capacity)  # a request larger than the bucket waits for a full one
        shortfall = amount - self._level
        # Within rounding of enough: a wait of 1e-16 s would never move a float clock forward.
        return 0.0 if shortfall <= 1e-9 else shortfall / self.rate

    def take(self, amount: float) -> None:
        self._level -= min(amount, self.capacity)

    def give_back(self, amount: float) -> None:
        self._level = min(self.capacity, self._level + amount)


class RateLimiter:
    """Requests-per-minute and tokens-per-minute limits; either may be absent."""

    def __init__(self, rpm: float | None = None, tpm: float | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.clock, self.sleep = clock, sleep
        self.requests = TokenBucket(rpm, clock=clock) if rpm else None
        # Tokens can come in large lumps (a prompt plus its output budget): a minute of budget.
        self.tokens = TokenBucket(tpm, burst_seconds=60.0, clock=clock) if tpm else None
        self._lock = asyncio.Lock()
        self._paused_until = 0.0

    @property
    def active(self) -> bool:
        return bool(self.requests or self.tokens)

    def pause(self, seconds: float) -> None:
        """Hold every caller back (the provider said Retry-After)."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    async def acquire(self, tokens: int = 0) -> None:
        """Wait until one request and ``tokens`` tokens fit in the budgets, then take them."""
        async with self._lock:  # first come, first served
            while True:
                wait = max(0.0, self._paused_until - self.clock())
                if self.requests:
                    wait = max(wait, self.requests.wait_time(1))
                if self.tokens and tokens:
                    wait = max(wait, self.tokens.wait_time(tokens))
                if wait <= 0:
                    break
                await self.sleep(wait)
            if self.requests:
                self.requests.take(1)
            if self.tokens and tokens:
                self.tokens.take(tokens)

    def refund(self, tokens: int) -> None:
        """Return tokens reserved but not used (the answer was shorter than its budget)."""
        if self.tokens and tokens > 0:
            self.tokens.give_back(tokens)
