"""What a run may spend: the price table, token estimates, the one cost formula, and the
spending cap held against every request."""

from __future__ import annotations

from ._estimate import (
    METHOD,
    Estimate,
    Price,
    cost_of,
    default_prices,
    estimate,
    estimate_tokens,
    price_for,
    prices_checked,
)
from ._spending import CappedProvider, SpendingCap, SpendingCapReached, worst_case

__all__ = [
    "METHOD",
    "CappedProvider",
    "Estimate",
    "Price",
    "SpendingCap",
    "SpendingCapReached",
    "cost_of",
    "default_prices",
    "estimate",
    "estimate_tokens",
    "price_for",
    "prices_checked",
    "worst_case",
]
