"""A Jinja2 sandbox whose renders are bounded in time and size.

A persona folder is input like any other: its templates may loop without end, recurse, or make a
prompt of gigabytes. Jinja's own sandbox stops a template from reaching Python's internals, not
from spending the machine. Here, every render (see :func:`bounded_render`) may take at most
:data:`RENDER_ITEMS` loop turns and :data:`RENDER_SECONDS`, and make at most
:data:`RENDER_CHARACTERS`; an operation that would make more (``'x' * 50000000``, a width of a
billion) is refused before it runs, not after the memory is spent.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from jinja2 import Environment, nodes, pass_context
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["RENDER_CHARACTERS", "RENDER_ITEMS", "RENDER_SECONDS", "BoundedEnvironment",
           "RenderLimitError", "bounded_render"]

RENDER_CHARACTERS = 1_000_000  # far past any system prompt a model takes (~250,000 tokens)
RENDER_ITEMS = 1_000_000  # loop turns and range() items of one render; a prompt needs hundreds
RENDER_SECONDS = 5.0  # a prompt renders in milliseconds
_MAX_INT_BITS = 100_000  # a number of 30,000 digits: no template needs one
_COUNTED = "sdgen_counted"  # the filter every {% for %} iterates through
_WIDE = re.compile(r"\d{7,}")  # a width or precision of millions in a format string


class RenderLimitError(SecurityError):
    """A render past its bounds (a Jinja sandbox error, so it reads as a template error)."""


class _Budget:
    """What one render may still spend."""

    def __init__(self) -> None:
        self.items = RENDER_ITEMS
        self.deadline = time.monotonic() + RENDER_SECONDS

    def spend(self, items: int) -> None:
        self.items -= items
        if self.items < 0:
            raise RenderLimitError(f"the template loops more than {RENDER_ITEMS:,} times")

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise RenderLimitError(f"the template takes more than {RENDER_SECONDS:g} s to render")


_BUDGET: ContextVar[_Budget | None] = ContextVar("sdgen_render_budget", default=None)


def _budget() -> _Budget:
    # Outside bounded_render (a template rendered some other way): each loop its own budget.
    return _BUDGET.get() or _Budget()


def _refuse_size(size: int, what: str) -> None:
    if size > RENDER_CHARACTERS:
        raise RenderLimitError(f"{what} would make {size:,} characters (the limit is "
                               f"{RENDER_CHARACTERS:,})")


def _check_arguments(args: Iterable[Any]) -> None:
    for value in args:
        if isinstance(value, int) and abs(value) > RENDER_CHARACTERS:
            raise RenderLimitError(f"the number {value:,} is too large for a template "
                                   f"(widths and counts up to {RENDER_CHARACTERS:,})")


def _check_text_call(method: Any, args: tuple[Any, ...]) -> None:
    """Refuse a str method whose result would be too large, before it runs."""
    text = getattr(getattr(method, "__wrapped__", method), "__self__", None)
    if not isinstance(text, str):
        return
    name = getattr(method, "__name__", "")
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str):
        _refuse_size(len(text) + text.count(args[0]) * (len(str(args[1])) - len(args[0])),
                     "this replace()")
    elif name == "join" and args and isinstance(args[0], (list, tuple)):
        _refuse_size(sum(len(str(x)) for x in args[0]) + len(text) * len(args[0]),
                     "this join()")
    elif name in ("format", "format_map") and _WIDE.search(text):
        raise RenderLimitError("a format string with a width of millions")


@pass_context
def _counted(context: Context, iterable: Iterable[Any]) -> Iterator[Any]:
    """Every loop's items, counted against the render's budget (time checked as it goes)."""
    budget = _budget()
    for turn, item in enumerate(iterable):
        budget.spend(1)
        if turn % 1024 == 0:
            budget.check_time()
        yield item


def _bounded_range(*args: int) -> range:
    span = range(*args)
    _refuse_size(len(span), f"range{args}")
    _budget().spend(len(span))
    return span


def _checked_filter(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """A built-in filter that refuses a result past the limit (a width of a billion, a replace
    or join of millions) before making it; Jinja's pass_* marks are kept by wraps."""

    @functools.wraps(original)
    def checked(*args: Any, **kwargs: Any) -> Any:
        _check_arguments([*args, *kwargs.values()])
        values = [a for a in args if not isinstance(a, (Context, EvalContext, Environment))]
        if name == "replace" and len(values) >= 3:
            text, old, new = (str(v) for v in values[:3])
            _refuse_size(len(text) + text.count(old) * (len(new) - len(old)), "this replace")
        elif name == "join" and values and isinstance(values[0], (list, tuple)):
            separator = str(values[1]) if len(values) > 1 else str(kwargs.get("d", ""))
            _refuse_size(sum(len(str(x)) for x in values[0]) + len(separator) * len(values[0]),
                         "this join")
        elif name == "format" and values and _WIDE.search(str(values[0])):
            raise RenderLimitError("a format string with a width of millions")
        return original(*args, **kwargs)

    return checked


class BoundedEnvironment(SandboxedEnvironment):
    """Jinja's sandbox, bounded: see the module's docstring."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = _bounded_range
        for name, original in list(self.filters.items()):
            self.filters[name] = _checked_filter(name, original)
        self.filters[_COUNTED] = _counted

    def _generate(self, source: nodes.Template, name: str | None, filename: str | None,
                  defer_init: bool = False) -> str:
        # Every {% for %} iterates through the counting filter: loops over anything (a range,
        # the seed's characters) spend the render's budget, however they nest.
        for loop in source.find_all(nodes.For):
            counted = nodes.Filter(loop.iter, _COUNTED, [], [], None, None, lineno=loop.lineno)
            loop.iter = counted.set_environment(self)
        return super()._generate(source, name, filename, defer_init)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        sequences = (str, bytes, list, tuple)
        if operator == "*":
            for items, times in ((left, right), (right, left)):
                if isinstance(items, sequences) and isinstance(times, int):
                    _refuse_size(len(items) * times, f"{type(items).__name__} * {times:,}")
            if isinstance(left, int) and isinstance(right, int) and (
                    left.bit_length() + right.bit_length() > _MAX_INT_BITS):
                raise RenderLimitError("a product too large for a template")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and (
                abs(left) > 1 and right > 0 and left.bit_length() * right > _MAX_INT_BITS):
            raise RenderLimitError(f"{left} ** {right:,} is too large for a template")
        elif operator == "+" and isinstance(left, sequences) and isinstance(right, sequences):
            _refuse_size(len(left) + len(right), "this concatenation")
        elif operator == "%" and isinstance(left, str):
            if _WIDE.search(left):
                raise RenderLimitError("a format string with a width of millions")
            _check_arguments(right if isinstance(right, tuple) else (right,))
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any,  # Jinja's own (positional) names
             *args: Any, **kwargs: Any) -> Any:
        _check_arguments([*args, *kwargs.values()])
        _check_text_call(__obj, args)
        return super().call(__context, __obj, *args, **kwargs)


def bounded_render(template: Any, **values: Any) -> str:
    """Render ``template`` (of a :class:`BoundedEnvironment`) within the bounds: streamed, so
    output past the limit stops the render, and time is checked between pieces."""
    budget = _Budget()
    token = _BUDGET.set(budget)
    try:
        pieces, size = [], 0
        for piece in template.generate(**values):
            size += len(piece)
            if size > RENDER_CHARACTERS:
                raise RenderLimitError(f"the template makes more than {RENDER_CHARACTERS:,} "
                                       "characters")
            budget.check_time()
            pieces.append(piece)
        return "".join(pieces)
    finally:
        _BUDGET.reset(token)
