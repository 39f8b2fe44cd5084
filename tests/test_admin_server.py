"""The operator console end to end: the API as deployed (`python -m assistant serve` under uvicorn, via
tests/servers.py), a real owner conversation and 👎, the operator's view of it, an eval item made from it,
and that item run by `policy-assistant eval --dataset` exactly as the file was written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from servers import start_api_server, stop_process

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parent.parent
ADMIN_KEY = "e2e-admin-key-abcdefghijkl"
OWNER_KEY = "e2e-owner-key-mnopqrstuvwx"
SALT = "e2e-salt-0123456789"
OWNER = {"Authorization": f"Bearer {OWNER_KEY}", "X-User-Id": "oE2eOwnerOpenId"}
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("admin-e2e")
    env = {"PA_API_KEYS": OWNER_KEY, "PA_ADMIN_KEYS": ADMIN_KEY, "PA_USER_ID_SALT": SALT}
    url, proc, log_path = start_api_server(tmp, env=env)
    try:
        yield url, tmp / "data", log_path
    finally:
        stop_process(proc)


def test_operator_sees_a_real_conversation_and_turns_it_into_an_eval_item(api, tmp_path):
    url, data_dir, log_path = api
    with httpx.Client(base_url=url, timeout=60) as http:
        # owners and operators cannot use each other's keys
        assert http.get("/v1/admin/stats", headers=OWNER).json()["error"]["code"] == "owner_key_not_admin_key"
        refused = http.post("/v1/chat", json={"message": "你好"}, headers={**ADMIN, "X-User-Id": "x"})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "admin_key_not_owner_key"
        assert http.get("/v1/admin/turns").status_code == 401

        chat = http.post("/v1/chat", json={"message": "自建电商平台首年交易额3亿元能拿多少？"}, headers=OWNER)
        assert chat.status_code == 200, chat.text
        reply = chat.json()
        session = reply["session_id"]
        vote = {"session_id": session, "turn": 0, "rating": "down", "comment": "想知道怎么申请"}
        assert http.post("/v1/feedback", json=vote, headers=OWNER).status_code == 201
        other = http.post("/v1/chat", json={"message": "今天重庆天气怎么样？"}, headers=OWNER).json()["session_id"]

        stats = http.get("/v1/admin/stats", headers=ADMIN).json()
        assert stats["totals"]["turns"] == 2 and stats["totals"]["down"] == 1 and stats["totals"]["users"] == 1
        assert stats["answer_types"][reply["answer_type"]] >= 1 and stats["latency_ms"]["count"] == 2

        down = http.get("/v1/admin/turns", params={"feedback": "down"}, headers=ADMIN).json()["items"]
        assert [(i["session_id"], i["turn"]) for i in down] == [(session, 0)]
        assert down[0]["answer"] == reply["answer"] and down[0]["feedback"]["comment"] == "想知道怎么申请"
        assert down[0]["user"].startswith("u_") and "oE2eOwnerOpenId" not in json.dumps(down)

        with http.stream("GET", "/v1/admin/export", params={"format": "jsonl"}, headers=ADMIN) as r:
            lines = [json.loads(line) for line in r.iter_lines() if line]
        assert len(lines) == 2 and [line["session_id"] for line in lines] == [other, session]

        made = http.post(
            "/v1/admin/eval-items", json={"session_id": session, "turn": 0, "id": "op-e2e-platform"}, headers=ADMIN
        )
        assert made.status_code == 201, made.text
        expected = made.json()["item"]["expected"]
        assert expected["answer_type"] == reply["answer_type"]
        assert expected["clause_ids_any"] == list(dict.fromkeys(c["clause_id"] for c in reply["citations"]))

    dataset = data_dir / "eval" / "operator-items.jsonl"
    out = tmp_path / "out.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PA_")}
    env.update(PA_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    run = subprocess.run(
        [sys.executable, "-m", "assistant", "eval", "--dataset", str(dataset), "--output", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert result["id"] == "op-e2e-platform" and result["score"]["passed"] is True, result["score"]
    for secret in (ADMIN_KEY, OWNER_KEY, SALT):
        assert secret not in log_path.read_text(encoding="utf-8")
