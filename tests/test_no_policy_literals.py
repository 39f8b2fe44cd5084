"""No clause id, amount or rate literal in assistant/ outside the policy loader and the money module.

Why: a clause id or an amount typed into a second module drifts from corpus/policies.yaml (issue 9 counted 128
such constants). This scans the AST, so docstrings and comments (which explain, and may quote the policy) are
allowed while code constants are not. A line that holds a number which is genuinely not a policy figure can
say so with ``# policy-literal: ok (<why>)``.

What counts as a violation:
* a string constant containing a numbered clause id of the corpus (三(四), 附件-11, 二(一)1 …; full-width
  brackets too), or a money/percent literal ("30万元", "2亿美元", "1-5亿元", "20%");
* an int/float literal that is a whole number of 万 (10_000, 300_000, 10_000_000), or 10 ** n with n ≥ 4;
* ``Decimal("…")`` of a rate (0 < x < 1, other than a power-of-ten quantum like "0.01") or of a whole 万.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from assistant.corpus import load_corpus

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"
EXEMPT = {"knowledge.py", "money.py"}  # the loader of policy facts and the money module
PRAGMA = "policy-literal: ok"

_MONEY = re.compile(r"\d+(?:\.\d+)?(?:\s*[-~～至到]\s*\d+(?:\.\d+)?)?\s*(?:[十百千万亿]+\s*)?(?:美元|元)|\d+(?:\.\d+)?\s*[万亿]|\d+(?:\.\d+)?\s*%")
_NUMBERED_ID = re.compile(r"^(?:[一二三四五六七八九十]+\(.+|附件-\d+)$")


def clause_ids() -> list[str]:
    """Numbered ids only: 文件信息 and 前言 are also ordinary words. Longest first, so 附件-11 reports as itself."""
    ids = [c for c in load_corpus().ids() if _NUMBERED_ID.match(c)]
    return sorted(ids, key=len, reverse=True)


def _docstring_nodes(tree: ast.AST) -> set[int]:
    """Docstrings, and any other bare string statement: they document, they are not used as values."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            out.add(id(node.value))
    return out


def _whole_wan(value: Decimal) -> bool:
    return value >= 10_000 and value % 10_000 == 0


def _rate(value: Decimal) -> bool:
    """0 < x < 1 and not a quantum such as 0.01 (分) or 0.0001 (万 display precision)."""
    return 0 < value < 1 and value.normalize().as_tuple().digits != (1,)


def scan_source(source: str, ids: list[str]) -> list[tuple[int, str]]:
    """(line, what) for each policy literal in ``source``."""
    tree = ast.parse(source)
    lines = source.splitlines()
    skip = _docstring_nodes(tree)
    found: list[tuple[int, str]] = []

    def report(node: ast.AST, what: str) -> None:
        lineno = getattr(node, "lineno", 0)
        if lineno and PRAGMA in lines[lineno - 1]:
            return
        found.append((lineno, what))

    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in skip:
            value = node.value
            if isinstance(value, str):
                text = unicodedata.normalize("NFKC", value)
                hit = next((cid for cid in ids if cid in text), None)
                if hit:
                    report(node, f"clause id {hit} in {value[:40]!r}")
                elif m := _MONEY.search(text):
                    report(node, f"amount {m.group(0)!r} in {value[:40]!r}")
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                if _whole_wan(Decimal(str(value))):
                    report(node, f"amount literal {value!r}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            base, exp = node.left, node.right
            if (isinstance(base, ast.Constant) and base.value == 10 and isinstance(exp, ast.Constant)
                    and isinstance(exp.value, int) and exp.value >= 4):
                report(node, f"amount literal 10**{exp.value}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Decimal"
              and len(node.args) == 1 and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            try:
                value = Decimal(node.args[0].value)
            except InvalidOperation:
                continue
            if value.is_finite() and (_rate(value) or _whole_wan(value)):
                report(node, f"Decimal({node.args[0].value!r})")
    return sorted(found)


def scan_package() -> dict[str, list[tuple[int, str]]]:
    ids = clause_ids()
    out: dict[str, list[tuple[int, str]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in EXEMPT:
            continue
        found = scan_source(path.read_text(encoding="utf-8"), ids)
        if found:
            out[str(path.relative_to(PACKAGE.parent))] = found
    return out


# --------------------------------------------------------------------------------------------------
# The scanner itself: it must find what it is meant to find, and nothing in docstrings or comments
# --------------------------------------------------------------------------------------------------

PLANTED = '''
"""Module docstring quoting 三(四) and 30万元 is fine."""
from decimal import Decimal

CAP = "最高30万元"          # money in a string
RATE = Decimal("0.2")      # a rate
BIG = 10_000_000           # a whole number of 万
POW = 10 ** 8
CLAUSE = "见三（四）"       # a full-width clause id
ANNEX = f"附件-11：{CAP}"   # an f-string part
PCT = "不超过20%"
RANGE = "1-5亿元"
QUANTUM = Decimal("0.01")  # 分: allowed
SMALL = 3                  # allowed
PORT = 7860                # not a whole 万: allowed
OK = 50_000  # policy-literal: ok (a clause-count cap, not money)


def f():
    """Docstrings may say 附件-10 and 1000万元."""
    # comments may say 2亿美元
    return "没有数字"
'''


def test_scanner_finds_planted_literals_and_ignores_docstrings():
    found = scan_source(PLANTED, clause_ids())
    lines = {line for line, _ in found}
    what = " ".join(w for _, w in found)
    assert lines == {5, 6, 7, 8, 9, 10, 11, 12}, found
    assert "三(四)" in what and "附件-11" in what and "Decimal('0.2')" in what and "10**8" in what


def test_clause_ids_come_from_the_corpus():
    ids = clause_ids()
    assert {"三(四)", "附件-11", "二(一)1", "一(二)"} <= set(ids)
    assert "前言" not in ids and "文件信息" not in ids


# --------------------------------------------------------------------------------------------------
# The modules
# --------------------------------------------------------------------------------------------------

CLEAN = ["assistant/calculator.py", "assistant/profile.py"]


@pytest.mark.parametrize("module", CLEAN)
def test_calculator_modules_have_no_policy_literals(module):
    path = PACKAGE.parent / module
    assert scan_source(path.read_text(encoding="utf-8"), clause_ids()) == []


# The whole package: policy facts live in corpus/*.yaml (read by knowledge.py, phrasing.py, lexicon.py) and
# money handling in money.py. A number that is genuinely not a policy figure says so with the pragma.
def test_no_policy_literals_in_assistant():
    violations = scan_package()
    counts = Counter({module: len(found) for module, found in violations.items()})
    assert not violations, "policy literals outside knowledge.py/money.py: " + ", ".join(
        f"{module}: {n}" for module, n in counts.most_common()
    )
