"""The only arithmetic on money: a few Decimal primitives every amount rule in ``corpus/policies.yaml`` is built
from (fixed, percent with a cap, per year with a cumulative cap, tiers, a yearly schedule). Each runs in
`EXACT`, where any rounding raises instead of silently losing a 分, so it is exact wherever it is called.
`assistant.calculator` interprets the rules with them; nothing else multiplies money.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_HALF_UP,
    Clamped,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Rounded,
    localcontext,
)
from typing import Literal

# All calculation arithmetic runs in this context: any rounding raises instead of silently losing a 分.
EXACT = Context(prec=80, traps=[Inexact, Rounded, InvalidOperation, DivisionByZero, Overflow, Clamped])
# Display-only conversions (a CNY figure shown in USD) may round, and say so with 约 / about.
DISPLAY = Context(prec=80, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow])

# --------------------------------------------------------------------------------------------------
# Primitives: the only arithmetic on money. Each runs in EXACT itself, so it is exact wherever it is called.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Capped:
    """A computed figure and the ceiling the text puts on it (最高 / 累计最高)."""

    raw: Decimal
    cap: Decimal

    @property
    def amount(self) -> Decimal:
        return min(self.raw, self.cap)

    @property
    def position(self) -> Literal["over", "equal", "under"]:
        return "over" if self.raw > self.cap else "equal" if self.raw == self.cap else "under"


def fixed_amount(amount: Decimal) -> Decimal:
    """A fixed award (给予100万元): the amount itself, checked to be a finite positive figure."""
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"a fixed award must be positive, got {amount}")
    return amount


def percent_with_cap(base: Decimal, rate: Decimal, cap: Decimal) -> Capped:
    """不超过 base×rate，最高 cap."""
    with localcontext(EXACT):
        return Capped(base * rate, cap)


def yearly_percent_with_cap(annual_base: Decimal, rate: Decimal, years: int, cap: Decimal) -> tuple[Decimal, Capped]:
    """每年不超过 annual_base×rate, for ``years`` years, 累计最高 cap → (per year, capped total)."""
    with localcontext(EXACT):
        per_year = annual_base * rate
        return per_year, Capped(per_year * years, cap)


def tier_index(value: Decimal, floors: Sequence[Decimal]) -> int | None:
    """Index of the highest tier whose floor the value reaches (floors ascending, 以上 inclusive); None below all."""
    reached = [i for i, floor in enumerate(floors) if value >= floor]
    return reached[-1] if reached else None


def yearly_schedule(figures: Sequence[Decimal], rates: Sequence[Decimal]) -> list[Decimal]:
    """Year i earns figures[i]×rates[i] (前3年100%、后2年50%). More figures than scheduled years is a bug."""
    if len(figures) > len(rates):
        raise ValueError(f"{len(figures)} yearly figures for a {len(rates)}-year schedule")
    with localcontext(EXACT):
        return [figure * rate for figure, rate in zip(figures, rates)]
