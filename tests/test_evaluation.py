"""The evaluation harness: per-item scoring, the never-abort writer, the report, the CI gate, and the gold
dataset itself run end to end (the last test *is* the CI quality gate)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import evaluation as ev
from assistant.calculator import EnterpriseProfile, calculate
from assistant.evaluation import DatasetError, GoldItem, ItemResult, ItemScore
from assistant.schemas import ChatResponse, Citation
from assistant.settings import REPO_ROOT, Settings

GOLD = REPO_ROOT / "eval" / "gold.jsonl"


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def platform_calc(volume: int = 300_000_000):
    return calculate(
        EnterpriseProfile(
            platform_first_year_online_transactions_yuan=volume,
            platform_project_investment_yuan=2_000_000,
            registered_in_beibei=True,
            local_legal_entity=True,
        )
    )


def response(
    answer: str = "可获得30万元一次性财政扶持【三(四)】。",
    answer_type: str = "calculation",
    cited: tuple[str, ...] = ("三(四)",),
    calculation=None,
) -> ChatResponse:
    return ChatResponse(
        answer=answer,
        answer_type=answer_type,
        citations=[Citation(clause_id=c, title=c, quote="…") for c in cited],
        calculation=calculation,
        session_id="s",
    )


class StubAssistant:
    """Answers every question with a fixed response, raises on messages containing 'BOOM'."""

    def __init__(self, reply: ChatResponse | None = None) -> None:
        self.reply = reply or response(calculation=platform_calc())
        self.calls: list[tuple[str, str | None]] = []

    def ask(self, message: str, session_id: str | None = None) -> ChatResponse:
        self.calls.append((message, session_id))
        if "BOOM" in message:
            raise RuntimeError("composer exploded")
        return self.reply.model_copy(update={"session_id": session_id or "x"})


def write_jsonl(path: Path, rows: list[dict | str]) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
        encoding="utf-8",
    )
    return path


def result(item_id: str, category: str, passed: bool, checks: dict[str, bool] | None = None) -> ItemResult:
    item = GoldItem(id=item_id, turns=["q"], category=category, expected={"answer_type": "policy_answer"})
    checks = checks if checks is not None else {"answer_type": passed}
    return ItemResult(
        item=item,
        response={"answer": "a", "answer_type": "policy_answer", "citations": []},
        latency_ms=10.0,
        score=ItemScore(passed=passed, checks=checks, failures=[] if passed else ["x"]),
    )


def summary_of(results: list[ItemResult]) -> ev.EvalSummary:
    return ev.summarize(results, dataset="d", mode="grounded", clauses=ev.ClauseIndex())


# --------------------------------------------------------------------------------------------------
# scoring
# --------------------------------------------------------------------------------------------------

FULL = {
    "answer_type": "calculation",
    "amounts_yuan": [300000],
    "clause_ids_any": ["三(四)", "附件-11"],
    "must_contain": ["30万元"],
    "must_not_contain": ["500万元"],
}


def test_all_checks_pass():
    s = ev.score_response(response(calculation=platform_calc()), FULL)
    assert s.passed, s.failures
    assert s.checks == {"answer_type": True, "amounts": True, "clause_ids": True, "must_contain": True,
                        "must_not_contain": True}


def test_only_specified_checks_exist():
    s = ev.score_response(response(), {"must_contain": ["30万元"]})
    assert s.checks == {"must_contain": True} and s.passed
    assert ev.score_response(response(), {}).checks == {}


def test_answer_type_mismatch_fails():
    s = ev.score_response(response(answer_type="policy_answer", calculation=platform_calc()), FULL)
    assert not s.passed and s.checks["answer_type"] is False
    assert all(v for k, v in s.checks.items() if k != "answer_type")
    assert "answer_type" in s.failures[0]


def test_altered_amount_fails():
    good = response(calculation=platform_calc()).model_dump(mode="json")
    assert ev.score_response(good, FULL).passed
    bad = json.loads(json.dumps(good))
    bad["calculation"]["total_yuan"] = "300001"
    for it in bad["calculation"]["items"]:
        if it["amount_yuan"] == "300000":
            it["amount_yuan"] = "300001"
    s = ev.score_response(bad, FULL)
    assert s.checks["amounts"] is False and not s.passed
    assert "300000" in s.failures[0]


def test_amount_matches_an_item_or_the_total_by_decimal_equality():
    calc = platform_calc().model_dump(mode="json")
    calc["total_yuan"] = "300000.00"  # Decimal equality, not string equality
    r = response(calculation=calc).model_dump(mode="json")
    r["calculation"] = calc
    assert ev.score_response(r, {"amounts_yuan": [300000]}).passed
    # every expected amount must be found
    assert not ev.score_response(r, {"amounts_yuan": [300000, 500000]}).passed


def test_amount_without_calculation_is_read_from_the_answer_text():
    for text in ("可获得30万元扶持", "可获得300,000元扶持", "可获得 30 万元", "可获得三十万元", "RMB 300,000",
                 "300,000 yuan", "¥300,000"):
        assert ev.score_response(response(answer=text), {"amounts_yuan": [300000]}).passed, text
    for text in ("可获得50万元扶持", "交易额3亿元", "300000美元", "no amount"):
        assert not ev.score_response(response(answer=text), {"amounts_yuan": [300000]}).passed, text


def test_empty_amounts_means_no_eligible_amount():
    none_calc = platform_calc(volume=50_000_000)  # below the 1亿 threshold: nothing eligible
    assert none_calc.total_yuan == "0"
    assert ev.score_response(response(calculation=none_calc), {"amounts_yuan": []}).passed
    # no calculation at all passes too, even when the text quotes the clause's amounts
    assert ev.score_response(response(answer="首年交易额1-5亿元的给予30万元", calculation=None),
                             {"amounts_yuan": []}).passed
    s = ev.score_response(response(calculation=platform_calc()), {"amounts_yuan": []})
    assert not s.passed and s.checks["amounts"] is False


def test_clause_ids_any():
    assert ev.score_response(response(cited=("附件-11",)), {"clause_ids_any": ["三(四)", "附件-11"]}).passed
    s = ev.score_response(response(cited=("三(五)",)), {"clause_ids_any": ["三(四)", "附件-11"]})
    assert not s.passed and s.checks["clause_ids"] is False
    assert not ev.score_response(response(cited=()), {"clause_ids_any": ["三(四)"]}).passed
    # an empty list asks for nothing
    assert ev.score_response(response(cited=()), {"clause_ids_any": []}).checks == {}


def test_clause_ids_are_canonicalised_with_the_corpus():
    from assistant.corpus import load_corpus

    clauses = ev.ClauseIndex(load_corpus())
    assert ev.score_response(response(cited=("三(四)",)), {"clause_ids_any": ["三（四）"]}, clauses).passed


def test_must_contain_and_must_not_contain():
    r = response(answer="可获得30万元（300,000元）【三(四)】")
    assert ev.score_response(r, {"must_contain": ["30万元", "300,000"]}).passed
    s = ev.score_response(r, {"must_contain": ["30万元", "50万元"]})
    assert not s.passed and "50万元" in s.failures[0]
    assert ev.score_response(r, {"must_not_contain": ["500万元"]}).passed
    s = ev.score_response(response(answer="按你说的500万元计算"), {"must_not_contain": ["500万元"]})
    assert not s.passed and s.checks == {"must_not_contain": False}
    # full-width/half-width, case and spaces next to CJK do not matter
    assert ev.score_response(response(answer="见三（四） 与 RMB"), {"must_contain": ["三(四)与", "rmb"]}).passed


def test_one_failed_check_fails_the_item():
    r = response(answer="可获得30万元，不是500万元【三(四)】", calculation=platform_calc())
    s = ev.score_response(r, FULL)
    assert not s.passed
    assert [k for k, v in s.checks.items() if not v] == ["must_not_contain"]


# --------------------------------------------------------------------------------------------------
# dataset
# --------------------------------------------------------------------------------------------------


def test_dataset_errors_name_the_line(tmp_path: Path):
    ok = {"id": "a", "turns": ["q"]}
    cases = [
        ([ok, "", "{not json"], "line 3:"),
        ([ok, {"turns": ["q"]}], "line 2"),
        ([ok, {"id": "b", "turns": []}], "line 2"),
        ([ok, {"id": "b", "turns": "q"}], "line 2"),
        ([ok, {"id": "a", "turns": ["q"]}], "duplicate"),
        ([ok, {"id": "b", "turns": ["q"], "expected": {"unspecified": "yes"}}], "line 2"),
        ([ok, {"id": "b", "turns": ["q"], "expected": {"amounts_yuan": ["30万"]}}], "line 2"),
        ([ok, {"id": "b", "turns": ["q"], "expected": {"answer_type": "poem"}}], "line 2"),
        ([ok, [1, 2]], "line 2"),
    ]
    for rows, needle in cases:
        path = write_jsonl(tmp_path / "d.jsonl", rows)
        with pytest.raises(DatasetError) as info:
            ev.load_dataset(path)
        assert needle in str(info.value), (rows, str(info.value))
        assert isinstance(info.value, ValueError)


def test_unknown_expected_keys_are_reported_not_fatal(tmp_path: Path):
    # a shared dataset may carry a check this runner does not know: score the rest, say what was ignored
    path = write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "turns": ["q"], "expected": {"amounts": [1], "must_contain": ["x"]}}])
    items = ev.load_dataset(path)
    assert ev.specified_checks(items[0].expected) == ["must_contain"]
    warnings = ev.dataset_warnings(items, ev.ClauseIndex())
    assert any("amounts" in w and "ignored" in w for w in warnings)


def test_unspecified_check():
    said = response(answer="文件没有规定资金何时拨付。【三(一)】")
    quoted = response(answer="文件中的相关规定：……【三(一)】")
    assert ev.score_response(said, {"unspecified": True}).passed
    assert not ev.score_response(quoted, {"unspecified": True}).passed
    assert ev.score_response(quoted, {"unspecified": False}).passed
    assert not ev.score_response(said, {"unspecified": False}).passed


def test_a_calculated_amount_the_owner_cannot_read_fails():
    # the amount must be the calculator's and must also appear in the answer text
    calc = platform_calc()
    assert ev.score_response(response(calculation=calc), {"amounts_yuan": [300000]}).passed
    silent = response(answer="测算结果见附表。【三(四)】", calculation=calc)
    assert not ev.score_response(silent, {"amounts_yuan": [300000]}).passed


def test_wrong_amount_is_a_shown_eligible_amount_that_is_not_due():
    calc = platform_calc()  # 300000 eligible
    assert not ev.wrong_amount(response(calculation=calc), {"amounts_yuan": [300000]})
    assert ev.wrong_amount(response(calculation=calc), {"amounts_yuan": [500000]})
    assert ev.wrong_amount(response(calculation=calc), {"amounts_yuan": []})
    assert not ev.wrong_amount(response(), {"amounts_yuan": [500000]})  # asking instead is not a wrong amount
    assert not ev.wrong_amount(response(calculation=calc), {})


def test_dataset_optional_fields(tmp_path: Path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "turns": ["q1", "q2"]}, "",
                                               {"id": "b", "category": "x", "turns": ["q"], "expected": {}}])
    items = ev.load_dataset(path)
    assert [i.id for i in items] == ["a", "b"]
    assert items[0].category == "uncategorized" and not items[0].scored and not items[1].scored
    assert items[0].retrieval_query == "q1\nq2"


# --------------------------------------------------------------------------------------------------
# running and writing
# --------------------------------------------------------------------------------------------------


def test_writer_keeps_going_after_an_item_raises(tmp_path: Path):
    dataset = write_jsonl(tmp_path / "d.jsonl", [
        {"id": "ok-1", "category": "calculation", "turns": ["自建平台首年3亿"], "expected": FULL},
        {"id": "boom", "category": "calculation", "turns": ["first", "BOOM now"], "expected": FULL},
        {"id": "unscored", "category": "clause_lookup", "turns": ["hello"]},
        {"id": "ok-2", "category": "multi_turn", "turns": ["a", "b", "c"], "expected": {"must_contain": ["30万元"]}},
    ])
    stub = StubAssistant()
    out = tmp_path / "out" / "results.jsonl"
    summary = ev.run_eval(dataset, out, progress=False, assistant=stub)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["ok-1", "boom", "unscored", "ok-2"]
    boom = lines[1]
    assert boom["error"] == "RuntimeError: composer exploded"
    assert boom["response"] is None and boom["score"]["passed"] is False
    assert set(boom["score"]["checks"]) == set(ev.specified_checks(FULL))
    assert "score" not in lines[2] and lines[2]["response"]["answer_type"] == "calculation"
    assert lines[0]["score"]["passed"] and lines[3]["score"]["passed"]
    assert all(isinstance(line["latency_ms"], float) for line in lines if "error" not in line)
    assert set(lines[0]["response"]) >= {"answer", "answer_type", "citations", "calculation", "session_id"}
    # every item in a fresh session, its turns in order, one session per item
    sessions: dict[str, list[str]] = {}
    for msg, sid in stub.calls:
        sessions.setdefault(sid, []).append(msg)
    assert list(sessions.values()) == [["自建平台首年3亿"], ["first", "BOOM now"], ["hello"], ["a", "b", "c"]]
    m = summary.metrics
    assert (m["items"], m["scored"], m["passed"], m["errors"]) == (4, 3, 2, 1)
    assert summary.categories["calculation"].passed == 1 and summary.categories["calculation"].errors == 1
    assert [r.id for r in summary.failures] == ["boom"]


def test_limit(tmp_path: Path):
    dataset = write_jsonl(tmp_path / "d.jsonl", [{"id": f"i{n}", "turns": ["q"]} for n in range(5)])
    summary = ev.run_eval(dataset, tmp_path / "o.jsonl", limit=2, progress=False, assistant=StubAssistant())
    assert summary.metrics["items"] == 2


def test_malformed_dataset_raises_before_running(tmp_path: Path):
    dataset = write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "turns": ["q"]}, "oops"])
    stub = StubAssistant()
    with pytest.raises(DatasetError, match="line 2"):
        ev.run_eval(dataset, tmp_path / "o.jsonl", progress=False, assistant=stub)
    assert stub.calls == []


# --------------------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------------------


def test_retrieval_metrics():
    m = ev.retrieval_metrics([
        (["a", "b"], {"a"}),  # rank 1
        (["x", "y", "b"], {"b"}),  # rank 3
        (["x", "y", "z", "w", "b"], {"b"}),  # rank 5
        (["x"], {"b"}),  # miss
        (None, {"b"}),  # retrieval failed: miss
    ])
    assert m["retrieval_n"] == 5
    assert (m["hit@1"], m["hit@3"], m["hit@5"]) == (0.2, 0.4, 0.6)
    assert m["mrr"] == pytest.approx((1 + 1 / 3 + 1 / 5) / 5)


def test_citation_oos_injection_and_latency_metrics():
    def item(i, cat, exp, resp, latency):
        gi = GoldItem(id=i, turns=["q"], category=cat, expected=exp)
        return ItemResult(item=gi, response=resp, latency_ms=latency, score=ev.score_response(resp, exp),
                          retrieved=["三(四)"])

    def resp(t, cited=()):
        return {"answer": "", "answer_type": t, "citations": [{"clause_id": c} for c in cited]}

    results = [
        item("1", "clause_lookup", {"answer_type": "policy_answer", "clause_ids_any": ["三(四)"]},
             resp("policy_answer", ["三(四)", "三(五)"]), 10),
        item("2", "out_of_scope", {"answer_type": "out_of_scope"}, resp("out_of_scope"), 20),
        item("3", "out_of_scope", {"answer_type": "out_of_scope"}, resp("policy_answer"), 30),
        item("4", "injection", {"answer_type": "policy_answer"}, resp("out_of_scope"), 40),
    ]
    m = ev.compute_metrics(results)
    assert m["citation_precision"] == 0.5 and m["citation_recall"] == 1.0
    assert m["oos_precision"] == 0.5 and m["oos_recall"] == 0.5
    assert m["injection_resistance"] == 0.0 and m["injection_n"] == 1
    assert m["pass_rate"] == 0.5
    assert m["latency_p50_ms"] == 25 and m["latency_p95_ms"] == pytest.approx(38.5)
    assert m["hit@1"] == 1.0 and m["retrieval_n"] == 1


def test_counterparts_count_as_relevant_for_precision_and_retrieval():
    from assistant.corpus import load_corpus

    clauses = ev.ClauseIndex(load_corpus())
    exp = {"clause_ids_any": ["三(四)"]}
    resp = {"answer": "", "answer_type": "policy_answer", "citations": [{"clause_id": "附件-11"}]}
    r = ItemResult(item=GoldItem(id="1", turns=["q"], expected=exp), response=resp, latency_ms=1,
                   score=ev.score_response(resp, exp, clauses), retrieved=["附件-11", "三(四)"])
    m = ev.compute_metrics([r], clauses)
    assert m["citation_precision"] == 1.0  # the counterpart is a correct citation …
    assert m["citation_recall"] == 0.0  # … but the gold clause itself was not cited
    assert m["hit@1"] == 1.0


# --------------------------------------------------------------------------------------------------
# report and gate
# --------------------------------------------------------------------------------------------------


def test_report_files_are_written(tmp_path: Path):
    dataset = write_jsonl(tmp_path / "d.jsonl", [
        {"id": "good", "category": "calculation", "turns": ["q"], "expected": FULL},
        {"id": "bad-type", "category": "clause_lookup", "turns": ["哪个单位牵头？"],
         "expected": {"answer_type": "policy_answer", "must_contain": ["区商务委"]}},
        {"id": "boom", "category": "injection", "turns": ["BOOM"], "expected": {"answer_type": "out_of_scope"}},
    ])
    report = tmp_path / "report"
    summary = ev.run_eval(dataset, tmp_path / "o.jsonl", report, progress=False, assistant=StubAssistant())
    md = (report / "report.md").read_text(encoding="utf-8")
    png = report / "pass_rate_by_category.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 2000
    assert json.loads((report / "metrics.json").read_text(encoding="utf-8"))["metrics"]["scored"] == 3
    assert "| Overall pass rate | 33.3% |" in md
    assert "## Failures (2)" in md and "### bad-type (clause_lookup)" in md and "### boom (injection)" in md
    assert "哪个单位牵头？" in md and "must_contain: missing ['区商务委']" in md
    assert "RuntimeError: composer exploded" in md
    assert "CI gate: FAIL" in md
    # weakest categories first in the category table
    table = md.split("## Pass rate by category")[1]
    assert table.index("| clause_lookup |") < table.index("| calculation |")
    assert "good" not in md.split("## Failures")[1]
    assert summary.render().startswith("Evaluation of")


def test_gate_passes_on_a_clean_run():
    results = [result(f"r{i}", "clause_lookup", True) for i in range(19)]
    results.append(result("inj", "injection", True))
    assert ev.check_gate(summary_of(results)) == []


def test_gate_pass_rate_threshold():
    at_95 = [result(f"r{i}", "clause_lookup", i >= 1) for i in range(20)]  # 19/20 = 95 %: passes
    assert ev.check_gate(summary_of(at_95)) == []
    below = [result(f"r{i}", "clause_lookup", i >= 2) for i in range(20)]  # 90 %
    fails = ev.check_gate(summary_of(below))
    assert len(fails) == 1 and "pass rate 90.0%" in fails[0]


def test_gate_fails_on_any_amount_mismatch():
    results = [result(f"r{i}", "calculation", True, {"amounts": True}) for i in range(99)]
    results.append(result("wrong", "calculation", False, {"amounts": False}))
    fails = ev.check_gate(summary_of(results))
    assert len(fails) == 1 and "amount exact-match 99.0%" in fails[0] and "wrong" in fails[0]


def test_gate_fails_on_any_injection_failure():
    results = [result(f"r{i}", "clause_lookup", True) for i in range(99)]
    results.append(result("inj-7", "injection", False))
    fails = ev.check_gate(summary_of(results))
    assert len(fails) == 1 and "inj-7" in fails[0]


def test_gate_fails_when_nothing_is_scored():
    r = ItemResult(item=GoldItem(id="a", turns=["q"]), response={"answer": ""}, latency_ms=1.0)
    assert ev.check_gate(summary_of([r]))


# --------------------------------------------------------------------------------------------------
# end to end with the real assistant
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_assistant(tmp_path_factory):
    if not (REPO_ROOT / "assistant" / "compose.py").is_file():  # an import error inside it must fail, not skip
        pytest.skip("the grounded composer (assistant/compose.py) is not there yet")
    from assistant.assistant import PolicyAssistant

    settings = Settings(data_dir=tmp_path_factory.mktemp("eval-data"), llm_base_url=None, chroma_url=None)
    return PolicyAssistant(settings=settings, mode="grounded")


def test_end_to_end_tiny_dataset(tmp_path: Path, real_assistant):
    dataset = write_jsonl(tmp_path / "tiny.jsonl", [
        {"id": "t-calc", "category": "calculation", "turns": ["自建电商平台首年交易额3亿元能拿多少？"],
         "expected": {"answer_type": "calculation", "amounts_yuan": [300000], "clause_ids_any": ["三(四)", "附件-11"]}},
        {"id": "t-lookup", "category": "clause_lookup", "turns": ["电商人才有什么优惠政策？"],
         "expected": {"clause_ids_any": ["三(六)", "附件-13"]}},
        {"id": "t-multi", "category": "multi_turn", "turns": ["电商人才有什么优惠政策？", "这项由哪个单位牵头？"]},
        {"id": "t-oos", "category": "out_of_scope", "turns": ["帮我写一首关于春天的诗。"],
         "expected": {"answer_type": "out_of_scope"}},
        {"id": "t-unscored", "category": "english", "turns": ["What does the cross-border clause say?"]},
    ])
    out = tmp_path / "out.jsonl"
    summary = ev.run_eval(dataset, out, tmp_path / "report", progress=False, assistant=real_assistant)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["t-calc", "t-lookup", "t-multi", "t-oos", "t-unscored"]
    assert all("error" not in line for line in lines), [line.get("error") for line in lines]
    for line in lines:
        ChatResponse.model_validate(line["response"])  # the public contract, as JSON
        assert line["latency_ms"] > 0
        assert len(line["retrieved"]) == 5
    assert [("score" in line) for line in lines] == [True, True, False, True, False]
    assert lines[0]["response"]["session_id"] != lines[1]["response"]["session_id"]
    assert summary.metrics["retrieval_n"] == 2 and summary.metrics["hit@5"] is not None
    assert (tmp_path / "report" / "report.md").is_file()
    assert (tmp_path / "report" / "pass_rate_by_category.png").is_file()


# --------------------------------------------------------------------------------------------------
# THE CI QUALITY GATE: the whole gold dataset, grounded mode. Do not weaken the thresholds here; fix the
# assistant (or a wrong gold item) instead. Thresholds live in assistant/evaluation.py (check_gate).
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["fresh", "holdout", "holdout2", "holdout3"])
def test_ci_gate_issue9_sets(tmp_path: Path, real_assistant, name: str):
    """The sets written for issue 9: ≥95 % pass and not one wrong amount (asking counts as no amount)."""
    path = GOLD.parent / f"{name}.jsonl"
    summary = ev.run_eval(path, tmp_path / f"{name}-out.jsonl", None, progress=False, assistant=real_assistant)
    failures = [f for f in ev.check_gate(summary) if not f.startswith("amount exact-match")]
    detail = "\n".join(
        f"  {r.id} [{r.category}]: " + "; ".join(r.score.failures if r.score else [r.error or "?"])
        for r in summary.failures
    )
    assert summary.metrics["wrong_amounts"] == 0, summary.metrics["wrong_amount_items"]
    assert not failures, "gate failed:\n- " + "\n- ".join(failures) + "\nfailing items:\n" + detail


def test_ci_gate_gold_dataset_grounded(tmp_path: Path, real_assistant):
    """CI gate: ≥95 % of gold items pass, 100 % amount exact-match, every injection item passes."""
    assert GOLD.is_file(), f"gold dataset missing: {GOLD}"
    summary = ev.run_eval(GOLD, tmp_path / "gold-out.jsonl", tmp_path / "report", progress=False,
                          assistant=real_assistant)
    assert summary.metrics["scored"] >= 160, "the gold dataset must hold at least 160 scored items"
    failures = ev.check_gate(summary)
    detail = "\n".join(
        f"  {r.id} [{r.category}]: " + "; ".join(r.score.failures if r.score else [r.error or "?"])
        for r in summary.failures
    )
    assert not failures, "CI gate failed:\n- " + "\n- ".join(failures) + "\nfailing items:\n" + detail
