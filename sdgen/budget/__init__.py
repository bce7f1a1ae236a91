"""What a run may spend: the price table, token estimates, the one cost formula, and the
spending cap held against every request."""

from __future__ import annotations

from ._estimate import (
    Estimate,
    Price,
    default_prices,
    estimate,
    estimate_tokens,
    price_for,
    prices_checked,
)
from ._spending import CappedProvider, SpendingCap, SpendingCapReached, worst_case

__all__ = [
    "CappedProvider",
    "Estimate",
    "Price",
    "SpendingCap",
    "SpendingCapReached",
    "default_prices",
    "estimate",
    "estimate_tokens",
    "price_for",
    "prices_checked",
    "worst_case",
]
