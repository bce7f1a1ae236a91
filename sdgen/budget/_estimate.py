"""Dry-run estimates: input tokens, output budget and cost of a planned call, without calling."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..compose import Prompt

__all__ = ["Estimate", "Price", "default_prices", "estimate", "estimate_tokens", "price_for",
           "prices_checked"]


class Price(BaseModel):
    """US dollars per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    input: float = Field(ge=0)
    output: float = Field(ge=0)


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


@cache
def _tiktoken_encoder(model: str) -> Any:
    """tiktoken's encoder when installed *and* its files are at hand; None otherwise."""
    try:
        import tiktoken  # optional: pip install 'sdgen[tokens]'

        try:
            return tiktoken.encoding_for_model(model)
        except KeyError:
            return tiktoken.get_encoding("o200k_base")
    except Exception:  # not installed, or offline without its cached encoding files
        return None


def estimate_tokens(text: str, model: str) -> tuple[int, str]:
    """Tokens in a text, and how they were counted."""
    if model.startswith(("gpt-", "o1", "o3", "o4")) and (encoder := _tiktoken_encoder(model)):
        return len(encoder.encode(text)), "tiktoken"
    # About four bytes of UTF-8 per token: English runs near four characters a token, and emoji
    # and box-drawing characters (3-4 bytes) cost about a token each.
    return math.ceil(len(text.encode("utf-8")) / 4), "bytes/4"


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
    _, method = estimate_tokens(text, model)
    tokens = 0
    sent = [m.content for m in prompt.messages]
    for turn, user in enumerate(["", *prompt.script]):
        if user:
            sent.append(user)
        tokens += estimate_tokens("\n".join(sent), model)[0] + turn * (budget // 4)
    turns = 1 + len(prompt.script)
    price = price_for(model, prices)
    cost = (tokens * price.input + turns * budget * price.output) / 1e6 if price else None
    return Estimate(prompt.topic.title, prompt.persona, len(prompt.messages) + len(prompt.script),
                    len(text), tokens, turns * budget, method, cost)
