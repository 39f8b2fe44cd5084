"""Homophone typo repair for the policy's key terms.

Owners type with pinyin input methods, so their typos are homophones (跨竟 for 跨境, 事范 for 示范). A
window of the question whose pinyin equals a key term's pinyin is replaced by the term before retrieval
and intent detection; the user's own text is still what the answer quotes back.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

# Single-character readings are all the comparison needs, and the same reading is used on both sides;
# skipping pypinyin's phrase dictionary saves ~1.1 s of start-up.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")

TERMS = [
    "跨境",
    "电商",
    "电子商务",
    "补贴",
    "扶持",
    "奖励",
    "示范",
    "基地",
    "园区",
    "企业",
    "自建",
    "平台",
    "交易额",
    "总部",
    "区域总部",
    "营销中心",
    "结算中心",
    "运营中心",
    "办公用房",
    "租金",
    "购房",
    "租房",
    "落户",
    "入统",
    "注册资金",
    "注册资本",
    "销售收入",
    "零售",
    "农产品",
    "旅游",
    "扶贫",
    "牵头",
    "责任单位",
    "人才",
    "子女入学",
    "海外仓",
    "孵化",
    "商务委",
    "美元",
    "汇率",
    "贡献",
    "北碚",
]


@lru_cache(maxsize=1)
def _index() -> dict[int, dict[tuple[str, ...], str]]:
    from pypinyin import lazy_pinyin

    by_length: dict[int, dict[tuple[str, ...], str]] = {}
    for term in TERMS:
        by_length.setdefault(len(term), {})[tuple(lazy_pinyin(term))] = term
    return by_length


def _unknown_syllables(chars: str) -> Any:
    """One placeholder per character pypinyin cannot read, so syllables stay aligned with characters (pypinyin's
    stubs say str; a list is what it documents for this)."""
    return ["?"] * len(chars)


@lru_cache(maxsize=4096)
def correct_typos(text: str) -> str:
    """Cached: the composer and the retriever both repair the same question."""
    from pypinyin import lazy_pinyin

    index = _index()
    chars = list(text)
    syllables = lazy_pinyin(text, errors=_unknown_syllables)
    if len(syllables) != len(chars):
        return text
    i = 0
    while i < len(chars):
        for length in sorted(index, reverse=True):
            window = "".join(chars[i : i + length])
            term = index[length].get(tuple(syllables[i : i + length]))
            if term and window != term and len(window) == length:
                chars[i : i + length] = list(term)
                i += length - 1
                break
        i += 1
    return "".join(chars)
