"""Rate limits, on a virtual clock: pacing, token budgets, and Retry-After pauses for everyone."""

from __future__ import annotations

import asyncio

import pytest

from sdgen.providers import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _limiter(clock: Clock, **budgets: float) -> RateLimiter:
    return RateLimiter(**budgets, clock=clock.monotonic, sleep=clock.sleep)


def test_requests_are_paced_at_the_rate(clock: Clock) -> None:
    limiter = _limiter(clock, rpm=600)  # 10 per second, at most 2 seconds of burst

    async def main() -> list[float]:
        stamps = []
        for _ in range(120):
            await limiter.acquire()
            stamps.append(clock.now)
        return stamps

    stamps = asyncio.run(main())
    # 120 requests at 10/s after a 20-request burst: the last one goes at 10 s.
    assert stamps[19] == 1000.0
    assert stamps[-1] == pytest.approx(1010.0)
    # No 60-second window ever holds more than the cap.
    assert all(sum(1 for t in stamps if s <= t < s + 60) <= 600 for s in stamps)


def test_token_budget_holds_back_large_requests(clock: Clock) -> None:
    limiter = _limiter(clock, tpm=60_000)  # 1,000 tokens a second, a minute of budget

    async def main() -> float:
        await limiter.acquire(tokens=60_000)  # the whole budget
        await limiter.acquire(tokens=30_000)  # must wait for half a minute of refill
        return clock.now

    assert asyncio.run(main()) == pytest.approx(1030.0)


def test_unused_tokens_are_given_back(clock: Clock) -> None:
    limiter = _limiter(clock, tpm=60_000)

    async def main() -> float:
        await limiter.acquire(tokens=60_000)
        limiter.refund(50_000)  # the answer was much shorter than its budget
        await limiter.acquire(tokens=50_000)
        return clock.now

    assert asyncio.run(main()) == pytest.approx(1000.0)


def test_retry_after_pauses_every_caller(clock: Clock) -> None:
    limiter = _limiter(clock, rpm=6000)

    async def main() -> float:
        limiter.pause(7.0)
        await limiter.acquire()
        return clock.now

    assert asyncio.run(main()) == pytest.approx(1007.0)
