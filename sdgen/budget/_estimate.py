"""Prices and dry-run estimates: input tokens, output budget and cost of a planned call, without
calling; the one cost formula (``Price.cost``) every figure of a run is computed by."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..compose import Prompt, estimate_tokens

__all__ = ["METHOD", "Estimate", "Price", "cost_of", "default_prices", "estimate",
           "estimate_tokens", "price_for", "prices_checked"]

METHOD = "bytes/4"  # how every token estimate is counted (compose.estimate_tokens)


class Price(BaseModel):
    """US dollars per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    input: float = Field(ge=0)
    output: float = Field(ge=0)

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """The one cost formula: what the dry run, the spending cap, the run report and each
        note's figure are all computed by, so they agree to the cent."""
        return (input_tokens * self.input + output_tokens * self.output) / 1e6


PRICES_FILE = Path(__file__).resolve().parent / "prices.toml"


@cache
def _price_table() -> tuple[str, dict[str, Price]]:
    """The list prices shipped with sdgen (data, not code: prices.toml) and the date they were
    checked."""
    data = tomllib.loads(PRICES_FILE.read_text(encoding="utf-8"))
    return str(data.get("checked", "")), {name: Price.model_validate(value)
                                          for name, value in data.get("prices", {}).items()}


def prices_checked() -> str:
    """The date the shipped price table was last checked against the providers' lists."""
    return _price_table()[0]


def default_prices() -> dict[str, Price]:
    return dict(_price_table()[1])


def price_for(model: str, overrides: Mapping[str, Price] | None = None) -> Price | None:
    """The user's price for the model, else the built-in one with the longest matching prefix."""
    table = {**default_prices(), **(overrides or {})}
    if model in table:
        return table[model]
    family = model.replace("-mini", "").replace("-nano", "")
    size = "-mini" if "-mini" in model else "-nano" if "-nano" in model else ""
    for name in sorted(table, key=len, reverse=True):
        base = name.replace(size, "") if size and name.endswith(size) else name
        if (size == "" or name.endswith(size)) and family.startswith(base):
            return table[name]
    return None


def cost_of(model: str, input_tokens: int, output_tokens: int,
            prices: Mapping[str, Price] | None = None) -> float | None:
    """What a model's tokens cost at its price (None: its price is not known)."""
    price = price_for(model, prices)
    return price.cost(input_tokens, output_tokens) if price else None


@dataclass(frozen=True)
class Estimate:
    topic: str
    persona: str
    messages: int
    characters: int
    input_tokens: int
    output_budget: int
    method: str
    cost: float | None  # input plus the whole output budget: an upper bound

    def row(self) -> list[str]:
        cost = f"${self.cost:.4f}" if self.cost is not None else "n/a"
        return [self.topic, self.persona, str(self.messages), f"{self.characters:,}",
                f"{self.input_tokens:,}", f"{self.output_budget:,}", cost]


def estimate(prompt: Prompt, model: str, prices: Mapping[str, Price] | None = None) -> Estimate:
    """One call's estimate; a conversation's counts every turn, each resending all before it
    (earlier answers, not yet written, counted at a quarter of the output budget each)."""
    budget = prompt.config.max_tokens
    text = "\n".join([*(m.content for m in prompt.messages), *prompt.script])
    tokens = 0
    sent = [m.content for m in prompt.messages]
    for turn, user in enumerate(["", *prompt.script]):
        if user:
            sent.append(user)
        # The first turn is exactly what the spending cap holds for it (input_tokens_held).
        tokens += estimate_tokens("\n".join(sent)) + turn * (budget // 4)
    turns = 1 + len(prompt.script)
    return Estimate(prompt.topic.title, prompt.persona, len(prompt.messages) + len(prompt.script),
                    len(text), tokens, turns * budget, METHOD,
                    cost_of(model, tokens, turns * budget, prices))
