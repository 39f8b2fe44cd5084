"""POST /v1/match over HTTP (TestClient on the real app): the library's matching, the API's error shape."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.assistant import PolicyAssistant
from assistant.matching import match
from assistant.settings import Settings


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("match-data")
    settings = Settings(data_dir=data_dir, api_keys="", cors_origins="", rate_limit_per_minute=100_000,
                        rate_limit_burst=100_000, llm_base_url=None)
    app = create_app(PolicyAssistant(settings=settings, mode="grounded"), settings)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_match_groups_and_ranks_like_the_library(client) -> None:
    profile = {"new_hq_type": "settlement_center", "registered_capital_yuan": 8_000_000,
               "demo_enterprise_level": "national", "cross_border_retail_usd": "250000000"}
    r = client.post("/v1/match", json=profile)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [it["policy_id"] for it in body["eligible"]] == ["cross_border", "demo_enterprise"]  # 200万 before 20万
    assert "hq_establishment" in [it["policy_id"] for it in body["ruled_out"]]  # capital below 1000万
    assert body["total_yuan"] == "2200000"
    assert body == match(profile).model_dump(mode="json")


def test_match_in_english_keeps_the_numbers(client) -> None:
    profile = {"demo_base_level": "municipal"}
    zh = client.post("/v1/match", json=profile).json()
    en = client.post("/v1/match?lang=en", json=profile).json()
    assert zh["total_yuan"] == en["total_yuan"] == "200000"
    assert en["eligible"][0]["title"] != zh["eligible"][0]["title"]


@pytest.mark.parametrize("body", [{"registered_capital_yuan": "lots"}, {"new_hq_type": "castle"}, [1, 2]])
def test_bad_profiles_are_422_with_the_error_shape(client, body) -> None:
    r = client.post("/v1/match", json=body)
    assert r.status_code == 422, r.text
    assert set(r.json()["error"]) >= {"code", "message", "request_id"}


def test_bad_language_is_422(client) -> None:
    r = client.post("/v1/match?lang=fr", json={})
    assert r.status_code == 422
