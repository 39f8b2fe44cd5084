"""Policy matching: every subsidy a business's stated facts make possible, ranked, with what is missing.

One implementation for the chat ("我们能享受哪些政策"), the web page's 政策匹配 tab and ``POST /v1/match``, so
the three never disagree. The calculator decides every status and amount; this module only groups and ranks:

* 符合 (eligible), by amount, largest first;
* 可能符合 (needs_info), by the most the policy can pay (from corpus/policies.yaml), each with what is missing;
* 非资金类 (non_monetary);
* 暂不符合 (not_eligible), each with the condition that rules it out.
"""

from __future__ import annotations

import fnmatch
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field

from assistant import knowledge
from assistant.calculator import POLICY_FACTS, CalculationItem, CalculationResult, EnterpriseProfile, calculate

__all__ = ["MatchResult", "group", "match", "max_award"]


class MatchResult(BaseModel):
    """The calculator's items grouped for an owner: what they get, what they might get, what they don't."""

    eligible: list[CalculationItem] = Field(description="Stated facts meet every condition; largest amount first.")
    possible: list[CalculationItem] = Field(
        description="Not ruled out, but facts are missing (see missing_facts); largest possible award first."
    )
    non_monetary: list[CalculationItem] = Field(description="Support that carries no money (talent).")
    ruled_out: list[CalculationItem] = Field(description="A stated fact fails a condition (see conditions_unmet).")
    total_yuan: str = Field(description="Sum of the eligible amounts, exact (upper bounds where an item says so).")
    calculation: CalculationResult


@lru_cache(maxsize=1)
def _max_awards() -> dict[str, Decimal | None]:
    out: dict[str, Decimal | None] = {}
    for policy in knowledge.policies():
        names = [
            n for n in policy.params() if fnmatch.fnmatchcase(n, "*amount") or n in ("cap", "national", "municipal")
        ]
        values = [policy.params()[n].value for n in names if policy.params()[n].unit == "CNY"]
        out[policy.id] = max(values) if values else None  # None: no cap (a share of what the firm contributes)
    return out


def max_award(policy_id: str) -> Decimal | None:
    """The most a policy can pay (its cap, fixed amount or top tier); None when the text sets no cap."""
    return _max_awards().get(policy_id)


def _possible_rank(item: CalculationItem, stated: set[str]) -> tuple[int, bool, Decimal, int]:
    """Policies the owner already gave facts for first; then capped policies by their cap, largest first, and
    uncapped ones (a share of a figure) after them."""
    cap = max_award(item.policy_id)
    touched = len(set(POLICY_FACTS.get(item.policy_id, ())) & stated)
    return (-touched, cap is None, -(cap or Decimal(0)), len(item.missing_facts))


def match(profile: EnterpriseProfile | dict, lang: Literal["zh", "en"] = "zh") -> MatchResult:
    if isinstance(profile, dict):
        profile = EnterpriseProfile.model_validate(profile)
    return group(calculate(profile, lang=lang), set(profile.model_fields_set))


def group(result: CalculationResult, stated: set[str] | None = None) -> MatchResult:
    """Group and rank a calculation already made (the page calculates once and renders the groups)."""
    stated = (
        stated
        if stated is not None
        else {f for it in result.items for f in POLICY_FACTS.get(it.policy_id, ()) if f not in it.missing_facts}
    )
    items = result.items
    return MatchResult(
        eligible=sorted((it for it in items if it.status == "eligible"), key=lambda it: -(it.amount or Decimal(0))),
        possible=sorted((it for it in items if it.status == "needs_info"), key=lambda it: _possible_rank(it, stated)),
        non_monetary=[it for it in items if it.status == "non_monetary"],
        ruled_out=[it for it in items if it.status == "not_eligible"],
        total_yuan=str(result.total_yuan),
        calculation=result,
    )
