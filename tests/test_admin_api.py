"""The operator API (/v1/admin) through FastAPI's TestClient on a real SqlStore seeded with known turns
(tests/admin_seed.py): key separation both ways, every filter, cursor pages while turns arrive, the export
round trip, eval items, and the statistics on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from types import SimpleNamespace

import pytest
from admin_seed import DAY1, DAY2, DAY3, SPECS, local, seed
from api_clients import settings_for as api_settings
from fastapi.testclient import TestClient
from pydantic import ValidationError

from assistant.api import create_app
from assistant.evaluation import load_dataset
from assistant.oversight.privacy import make_hasher, salt_for
from assistant.settings import Settings
from assistant.sql_store import SqlStore
from assistant.store import SessionNotFound

ADMIN_KEY = "admin-key-0123456789"
OWNER_KEY = "owner-key-9876543210"
SALT = "salt-for-tests-only-abcdef"
ALL = {"since": DAY1.isoformat(), "until": DAY3.isoformat()}


def settings_for(data_dir, **overrides) -> Settings:
    """The API test settings with an owner key, an admin key and a salt."""
    base = dict(
        api_keys=OWNER_KEY,
        admin_keys=ADMIN_KEY,
        user_id_salt=SALT,
        auth_failure_burst=1000,
        auth_failures_per_minute=1000,
    )
    return api_settings(data_dir, **{**base, **overrides})


class StubAssistant:
    """The operator routes need only the store; owner routes reach `history` once auth has passed."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.corpus = SimpleNamespace(clauses=[SimpleNamespace(clause_id="三(四)", title="支持自建电商平台")])

    def history(self, session_id, user_id=None):
        raise SessionNotFound(session_id)


@pytest.fixture
def store(tmp_path):
    s = SqlStore(f"sqlite:///{tmp_path / 'admin.db'}")
    seed(s)
    yield s
    s.close()


@pytest.fixture
def make_client(store, tmp_path):
    clients: list[TestClient] = []

    def make(**overrides) -> TestClient:
        client = TestClient(
            create_app(StubAssistant(store), settings_for(tmp_path, **overrides)), raise_server_exceptions=False
        )
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def client(make_client):
    return make_client()


ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
OWNER = {"Authorization": f"Bearer {OWNER_KEY}", "X-User-Id": "owner-alice"}


def error_code(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    return body["error"]["code"]


def all_items(client, **params) -> list[dict]:
    items, cursor = [], None
    while True:
        r = client.get("/v1/admin/turns", params={**params, **({"cursor": cursor} if cursor else {})}, headers=ADMIN)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


def keys(items) -> set[tuple[str, int]]:
    return {(i["session_id"], i["turn"]) for i in items}


def spec_keys(pred) -> set[tuple[str, int]]:
    counters: dict[str, int] = {}
    out = set()
    for spec in SPECS:
        idx = counters.get(spec.session, 0)
        counters[spec.session] = idx + 1
        if pred(spec):
            out.add((spec.session, idx))
    return out


# --- access ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/admin/stats", "/v1/admin/turns", "/v1/admin/export"])
def test_admin_routes_need_an_admin_key(client, path):
    assert error_code(client.get(path), 401) == "unauthorized"
    assert error_code(client.get(path, headers={"Authorization": "Bearer nope"}), 401) == "unauthorized"
    assert error_code(client.get(path, headers=OWNER), 403) == "owner_key_not_admin_key"
    assert client.get(path, headers=ADMIN).status_code == 200


def test_owner_routes_refuse_an_admin_key(client):
    r = client.get("/v1/sessions/9b2f0c4e5d6a47b1a3c8e7f6d5c4b3a2", headers={**ADMIN, "X-User-Id": "owner-alice"})
    assert error_code(r, 403) == "admin_key_not_owner_key"
    r = client.post("/v1/chat", json={"message": "你好"}, headers={**ADMIN, "X-User-Id": "u1"})
    assert error_code(r, 403) == "admin_key_not_owner_key"
    r = client.get("/v1/sessions/9b2f0c4e5d6a47b1a3c8e7f6d5c4b3a2", headers=OWNER)  # the owner key still works
    assert error_code(r, 404) == "session_not_found"


def test_admin_key_is_refused_even_where_owners_need_no_key(make_client):
    open_client = make_client(api_keys="")
    r = open_client.get("/v1/sessions/9b2f0c4e5d6a47b1a3c8e7f6d5c4b3a2", headers=ADMIN)
    assert error_code(r, 403) == "admin_key_not_owner_key"
    assert error_code(open_client.get("/v1/sessions/9b2f0c4e5d6a47b1a3c8e7f6d5c4b3a2"), 404) == "session_not_found"


def test_without_admin_keys_the_console_is_off(make_client):
    off = make_client(admin_keys="")
    assert error_code(off.get("/v1/admin/stats", headers=ADMIN), 404) == "admin_disabled"


def test_a_key_cannot_be_both(tmp_path):
    with pytest.raises(ValidationError, match="must not share a key"):
        settings_for(tmp_path, api_keys=f"x,{ADMIN_KEY}")


def test_wrong_admin_keys_use_up_the_shared_failure_budget(make_client):
    c = make_client(auth_failure_burst=2, auth_failures_per_minute=1)
    for _ in range(2):
        assert c.get("/v1/admin/stats", headers={"Authorization": "Bearer guess"}).status_code == 401
    assert error_code(c.get("/v1/admin/stats", headers=ADMIN), 429) == "rate_limited"  # even the right key waits
    assert error_code(c.get("/v1/sessions/9b2f0c4e5d6a47b1a3c8e7f6d5c4b3a2", headers=OWNER), 429) == "rate_limited"


def test_the_admin_api_is_not_in_the_owners_openapi(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/v1/admin")]


def test_operator_output_holds_no_secret_and_no_raw_user_id(client):
    bodies = [
        client.get("/v1/admin/stats", params=ALL, headers=ADMIN).text,
        client.get("/v1/admin/turns", params=ALL, headers=ADMIN).text,
        client.get("/v1/admin/export", params=ALL, headers=ADMIN).text,
        client.get("/v1/admin/export", params={**ALL, "format": "csv"}, headers=ADMIN).text,
    ]
    for body in bodies:
        for secret in (ADMIN_KEY, OWNER_KEY, SALT, "owner-alice", "owner-bob", "/tmp"):
            assert secret not in body
    hashed = make_hasher(SALT.encode())("owner-alice")
    assert hashed and hashed in bodies[1] and hashed in bodies[2]


def test_user_hash_is_keyed_and_a_generated_salt_persists(tmp_path):
    assert make_hasher(b"k1")("u") != make_hasher(b"k2")("u") != "u"
    s = Settings(data_dir=tmp_path, user_id_salt=None)
    first = salt_for(s)
    assert first == salt_for(s) and len(first) == 64
    assert (tmp_path / "user_id_salt").stat().st_mode & 0o777 == 0o600


# --- turn list ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "pred"),
    [
        (ALL, lambda s: True),
        ({"since": DAY2.isoformat()}, lambda s: s.at.date() >= DAY2),
        ({"until": DAY1.isoformat()}, lambda s: s.at.date() <= DAY1),
        ({"since": DAY2.isoformat(), "until": DAY2.isoformat()}, lambda s: s.at.date() == DAY2),
        ({"answer_type": "out_of_scope"}, lambda s: s.answer_type == "out_of_scope"),
        (
            {"answer_type": ["calculation", "clarification"]},
            lambda s: s.answer_type in ("calculation", "clarification"),
        ),
        ({"feedback": "down"}, lambda s: s.vote == "down"),
        ({"feedback": "up"}, lambda s: s.vote == "up"),
        ({"feedback": "none"}, lambda s: s.vote is None),
        ({"feedback": "any"}, lambda s: s.vote is not None),
        ({"q": "天气"}, lambda s: "天气" in s.message),
        ({"q": "platform"}, lambda s: "platform" in s.message.lower()),  # case-insensitive
        ({"q": "30万元"}, lambda s: "30万元" in s.answer),  # found in the answer, not the question
        ({"q": "100%"}, lambda s: "100%" in s.message),  # % is literal, not a wildcard
        ({"clause_id": "附件-11"}, lambda s: "附件-11" in s.cites),
        ({"clause_id": "三(四)"}, lambda s: "三(四)" in s.cites),
        ({"refused": "true"}, lambda s: s.answer_type == "out_of_scope"),
        ({"refused": "false"}, lambda s: s.answer_type != "out_of_scope"),
        ({"mode": "llm"}, lambda s: s.mode == "llm"),
        ({"fallback": "true"}, lambda s: s.fallback),
        ({"unspecified": "true"}, lambda s: "文件没有规定" in s.answer or "does not specify" in s.answer),
        ({"feedback": "down", "refused": "true"}, lambda s: s.vote == "down" and s.answer_type == "out_of_scope"),
    ],
)
def test_every_filter(client, params, pred):
    expected = spec_keys(pred)
    assert expected or params.get("q") == "nothing"
    assert keys(all_items(client, **params, limit=2)) == expected


def test_items_show_the_answer_citations_vote_and_hashed_user(client):
    items = all_items(client, feedback="down", answer_type="calculation")
    assert len(items) == 1
    item = items[0]
    assert item["message"] == "交易额3亿能拿多少？" and item["answer"] == "可获30万元。"
    assert [c["clause_id"] for c in item["citations"]] == ["三(四)"]
    assert item["calculation"]["total_yuan"] == "300000"
    assert item["feedback"] == {"rating": "down", "comment": "评论"}
    assert item["user"] == make_hasher(SALT.encode())("owner-alice")
    assert item["latency_ms"] == 200
    assert item["created_at"].startswith("2025-02-28T16:06")  # 00:06 on 1 March in UTC+8


def test_turns_are_newest_first(client):
    items = all_items(client, **ALL)
    stamps = [i["created_at"] for i in items]
    assert stamps == sorted(stamps, reverse=True) and len(items) == len(SPECS)


def test_pages_are_stable_while_turns_arrive(client, store):
    before = all_items(client, **ALL)
    first = client.get("/v1/admin/turns", params={"limit": 3}, headers=ADMIN).json()
    assert len(first["items"]) == 3
    for i in range(5):  # new turns arrive between page requests
        store.add_user_turn("snew", "owner-new", f"新问题{i}")
    seen = list(first["items"])
    cursor = first["next_cursor"]
    while cursor:
        r = client.get("/v1/admin/turns", params={"limit": 3, "cursor": cursor}, headers=ADMIN).json()
        seen += r["items"]
        cursor = r["next_cursor"]
        store.add_user_turn("snew", "owner-new", "又一个")
    assert [(i["session_id"], i["turn"]) for i in seen] == [(i["session_id"], i["turn"]) for i in before]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"cursor": "not-a-cursor"}, 422, "invalid_cursor"),
        ({"cursor": "WzEsMiwzXQ"}, 422, "invalid_cursor"),  # base64 of [1,2,3]
        ({"since": "2025-03-05", "until": "2025-03-01"}, 422, "invalid_range"),
        ({"since": "yesterday"}, 422, "validation_error"),
        ({"answer_type": "poem"}, 422, "validation_error"),
        ({"feedback": "meh"}, 422, "validation_error"),
        ({"limit": "0"}, 422, "validation_error"),
        ({"limit": "201"}, 422, "validation_error"),
    ],
)
def test_bad_list_input_is_a_4xx_in_our_shape(client, params, status, code):
    assert error_code(client.get("/v1/admin/turns", params=params, headers=ADMIN), status) == code


# --- export ---------------------------------------------------------------------------------------------


def test_jsonl_export_round_trips_the_list(client):
    r = client.get("/v1/admin/export", params={**ALL, "format": "jsonl"}, headers=ADMIN)
    assert r.headers["content-type"].startswith("application/x-ndjson")
    assert "attachment" in r.headers["content-disposition"]
    exported = [json.loads(line) for line in r.text.splitlines()]
    assert exported == all_items(client, **ALL)


def test_csv_export_round_trips_the_list(client):
    r = client.get("/v1/admin/export", params={"format": "csv", "feedback": "any"}, headers=ADMIN)
    assert r.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    items = all_items(client, feedback="any")
    assert len(rows) == len(items) == 4
    for row, item in zip(rows, items):
        assert row["session_id"] == item["session_id"] and int(row["turn"]) == item["turn"]
        assert row["message"] == item["message"] and row["answer"] == item["answer"]
        assert row["user"] == (item["user"] or "") and row["rating"] == item["feedback"]["rating"]
        assert row["clause_ids"].split() == [c["clause_id"] for c in item["citations"]]
        assert row["created_at"] == item["created_at"] and row["answer_type"] == item["answer_type"]


def test_export_rejects_an_unknown_format(client):
    assert error_code(client.get("/v1/admin/export", params={"format": "xlsx"}, headers=ADMIN), 422) == (
        "validation_error"
    )


# --- eval items -------------------------------------------------------------------------------------------


def test_draft_is_prefilled_from_the_stored_reply(client):
    r = client.get("/v1/admin/eval-items/draft", params={"session_id": "sa", "turn": 1}, headers=ADMIN)
    assert r.status_code == 200, r.text
    item = r.json()["item"]
    assert item["turns"] == ["自建电商平台有什么补贴？", "交易额3亿能拿多少？"]  # the conversation up to the turn
    assert item["expected"] == {"answer_type": "calculation", "clause_ids_any": ["三(四)"], "amounts_yuan": [300000]}
    r = client.get("/v1/admin/eval-items/draft", params={"session_id": "sc", "turn": 1}, headers=ADMIN)
    assert r.json()["item"]["expected"]["unspecified"] is True


def test_made_items_are_corrected_appended_and_load_as_a_dataset(client, tmp_path):
    body = {"session_id": "sb", "turn": 0, "expected": {"must_contain": ["区商务委"]}}
    r = client.post("/v1/admin/eval-items", json=body, headers=ADMIN)
    assert r.status_code == 201, r.text
    assert r.json()["dataset"] == "eval/operator-items.jsonl" and r.json()["items_in_dataset"] == 1
    corrected = {
        "session_id": "sa",
        "turn": 1,
        "id": "op-fixed",
        "expected": {"amounts_yuan": [500000], "clause_ids_any": None},
    }
    assert client.post("/v1/admin/eval-items", json=corrected, headers=ADMIN).json()["items_in_dataset"] == 2
    items = load_dataset(tmp_path / "eval" / "operator-items.jsonl")
    assert [i.id for i in items] == ["op-sb-0", "op-fixed"]
    assert items[0].expected == {"answer_type": "out_of_scope", "must_contain": ["区商务委"]}
    assert items[1].expected == {"answer_type": "calculation", "amounts_yuan": [500000]}
    again = client.post("/v1/admin/eval-items", json=body, headers=ADMIN)
    assert error_code(again, 409) == "eval_item_exists"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"session_id": "nope", "turn": 0}, 404, "turn_not_found"),
        ({"session_id": "sa", "turn": 9}, 404, "turn_not_found"),
        ({"session_id": "sa", "turn": 0, "expected": {"answer_type": "poem"}}, 422, "validation_error"),
        ({"session_id": "sa", "turn": 0, "expected": {"amounts": [1]}}, 422, "validation_error"),
        ({"session_id": "sa", "turn": 0, "id": "../../etc"}, 422, "validation_error"),
        ({"session_id": "sa", "turn": -1}, 422, "validation_error"),
        ({"session_id": "sa", "turn": 0, "turns": []}, 422, "validation_error"),
    ],
)
def test_bad_eval_items_are_refused(client, tmp_path, body, status, code):
    assert error_code(client.post("/v1/admin/eval-items", json=body, headers=ADMIN), status) == code
    assert not (tmp_path / "eval" / "operator-items.jsonl").exists()


def test_an_unanswered_turn_cannot_become_an_item(client, store):
    store.add_user_turn("sa", "owner-alice", "还没回答的问题")
    r = client.post("/v1/admin/eval-items", json={"session_id": "sa", "turn": 2}, headers=ADMIN)
    assert error_code(r, 409) == "turn_unanswered"


# --- statistics (SQLite and PostgreSQL) -------------------------------------------------------------------


@pytest.fixture
def any_store(db_url):
    s = SqlStore(db_url)
    try:
        seed(s)
        yield s
    finally:
        s.close()


def test_stats_are_exact(any_store, tmp_path):
    client = TestClient(create_app(StubAssistant(any_store), settings_for(tmp_path)), raise_server_exceptions=False)
    with client:
        stats = client.get("/v1/admin/stats", params=ALL, headers=ADMIN).json()
        page = client.get("/v1/admin/turns", params={"feedback": "down", "limit": 1}, headers=ADMIN).json()
    assert stats["totals"] == {
        "turns": 7,
        "answered": 7,
        "sessions": 5,
        "users": 4,
        "up": 2,
        "down": 2,
        "down_rate": round(2 / 7, 4),
    }
    assert stats["answer_types"] == {"policy_answer": 3, "calculation": 1, "clarification": 1, "out_of_scope": 2}
    assert stats["unspecified"] == {"count": 2, "share": round(2 / 7, 4)}
    assert stats["modes"] == {"grounded": 5, "llm": 2} and stats["llm_fallbacks"] == 1
    assert stats["latency_ms"] == {"count": 7, "p50": 400, "p95": 700}
    assert stats["top_clauses"] == [
        {"clause_id": "三(四)", "title": "支持自建电商平台", "count": 4},
        {"clause_id": "一(一)", "title": None, "count": 1},
        {"clause_id": "附件-11", "title": None, "count": 1},
    ]
    assert [(t["clause_id"], t["count"]) for t in stats["top_topics"]] == [("三(四)", 4), ("一(一)", 1)]
    days = {d["day"]: d for d in stats["days"]}
    assert list(days) == ["2025-03-01", "2025-03-02", "2025-03-03"]
    d1, d2, d3 = days["2025-03-01"], days["2025-03-02"], days["2025-03-03"]
    assert (d1["turns"], d1["sessions"], d1["users"], d1["up"], d1["down"]) == (3, 2, 2, 1, 2)
    assert (d1["policy_answer"], d1["calculation"], d1["out_of_scope"]) == (1, 1, 1)
    assert (d2["turns"], d2["llm"], d2["fallback"], d2["unspecified"], d2["clarification"]) == (2, 1, 1, 1, 1)
    assert (d3["turns"], d3["sessions"], d3["users"], d3["down_rate"]) == (2, 2, 1, 0.0)
    assert d1["down_rate"] == round(2 / 3, 4)
    assert len(page["items"]) == 1 and page["next_cursor"]


def test_stats_window_edges_follow_local_days(client):
    one = client.get(
        "/v1/admin/stats", params={"since": DAY1.isoformat(), "until": DAY1.isoformat()}, headers=ADMIN
    ).json()
    assert one["totals"]["turns"] == 3  # 00:05 and 23:59 UTC+8 both belong to 1 March
    empty = client.get("/v1/admin/stats", params={"since": "2024-01-01", "until": "2024-01-31"}, headers=ADMIN).json()
    assert empty["totals"]["turns"] == 0 and empty["latency_ms"]["p50"] is None and len(empty["days"]) == 31
    default = client.get("/v1/admin/stats", headers=ADMIN).json()
    assert len(default["days"]) == 30


def test_seeded_times_are_what_the_tests_assume():
    assert SPECS[0].at == local(DAY1, 0, 5)
