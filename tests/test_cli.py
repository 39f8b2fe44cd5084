"""The CLI end to end, as subprocesses: what a user types, what they see, and exit codes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ENV = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1"}


def run(*args: str, stdin: str | None = None, data_dir: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(ENV)
    if data_dir is not None:
        env["PA_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], input=stdin, capture_output=True, text=True, env=env, timeout=300
    )


HQ_PROFILE = {
    "new_hq_type": "regional_hq",
    "registered_capital_yuan": 10000000,
    "online_annual_sales_yuan": 120000000,
    "sales_in_statistics": True,
    "years_in_operation": 2,
    "office_purchase_price_yuan": 3000000,
    "annual_local_contribution_yuan": 1000000,
}


def test_calc_json_full_hq_profile(tmp_path: Path):
    profile = tmp_path / "hq.json"
    profile.write_text(json.dumps(HQ_PROFILE), encoding="utf-8")
    out = run("calc", "--profile", str(profile), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    amounts = {i["policy_id"]: i["amount_yuan"] for i in result["items"]}
    assert amounts["hq_establishment"] == "1000000"
    assert amounts["hq_office_purchase"] == "500000"
    assert amounts["hq_contribution_reward"] == "4000000"
    assert result["total_yuan"] == "5500000"
    assert any("2019" in n for n in result["notes"])


def test_calc_table_from_stdin():
    out = run("calc", "--profile", "-", stdin=json.dumps({"platform_first_year_online_transactions_yuan": 500000000,
                                                          "registered_in_beibei": True, "local_legal_entity": True,
                                                          "platform_project_investment_yuan": 1000000}))
    assert out.returncode == 0, out.stderr
    assert "50万元" in out.stdout and "500,000" in out.stdout


@pytest.mark.parametrize(
    "payload,needle",
    [
        ('{"registered_capital_yuan": -1}', "registered_capital_yuan"),
        ('{"online_annual_sales_yuan": "三亿"}', "online_annual_sales_yuan"),
        ('{"no_such_field": 1}', "no_such_field"),
        ('{"cross_border_retail_usd": 1e20}', "cross_border_retail_usd"),
        ("{not json", "JSON"),
        ("[1, 2]", "JSON 对象"),
    ],
)
def test_calc_bad_input_exits_2_with_one_line(payload: str, needle: str):
    out = run("calc", "--profile", "-", stdin=payload)
    assert out.returncode == 2
    assert needle in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_calc_missing_file_exits_2():
    out = run("calc", "--profile", "/nonexistent/profile.json")
    assert out.returncode == 2 and "找不到文件" in out.stderr and "Traceback" not in out.stderr


def test_clauses_list_json_has_every_id():
    out = run("clauses", "list", "--json")
    assert out.returncode == 0
    ids = [c["clause_id"] for c in json.loads(out.stdout)]
    assert len(ids) == 35 and ids[0] == "文件信息" and ids[-1] == "附件-13"


def test_clauses_show_includes_counterpart():
    out = run("clauses", "show", "三（四）")
    assert out.returncode == 0
    assert "【三(四)】" in out.stdout and "【附件-11】" in out.stdout and "项目投资100万元以上" in out.stdout


def test_clauses_show_unknown_exits_2():
    out = run("clauses", "show", "九(九)")
    assert out.returncode == 2 and "九(九)" in out.stderr and "Traceback" not in out.stderr


def test_clauses_diff_lists_discrepancies():
    out = run("clauses", "diff", "--json")
    assert out.returncode == 0
    pairs = {(d["main_clause_id"], d["annex_clause_id"]) for d in json.loads(out.stdout)}
    assert ("二(三)1", "附件-6") in pairs and ("三(四)", "附件-11") in pairs and ("三(一)", "附件-10") in pairs


def test_ask_json_and_session(tmp_path: Path):
    out = run("ask", "自建电商平台首年交易额3亿元能拿多少？", "--json", data_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    response = json.loads(out.stdout)
    assert response["answer_type"] == "calculation" and "30万元" in response["answer"]
    assert response["calculation"]["total_yuan"] == "300000"
    assert {c["clause_id"] for c in response["citations"]} & {"三(四)", "附件-11"}


def test_ask_empty_exits_2(tmp_path: Path):
    out = run("ask", "   ", data_dir=tmp_path)
    assert out.returncode == 2 and "不能为空" in out.stderr


def test_search_prints_ranked_clauses(tmp_path: Path):
    out = run("search", "跨境电商零售2亿美元", "-k", "3", data_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0]
    assert "三(五)" in first or "附件-12" in first


def test_ingest_reports_then_reuses(tmp_path: Path):
    first = run("ingest", data_dir=tmp_path)
    assert first.returncode == 0 and "35" in first.stdout and "已构建" in first.stdout
    second = run("ingest", data_dir=tmp_path)
    assert second.returncode == 0 and "复用" in second.stdout
