"""The API's published contract, pinned: the OpenAPI schema (with and without API keys configured, since the
security section depends on it) must equal the committed snapshots in tests/snapshots/.

A restructure must leave them unchanged. Work that changes the API on purpose regenerates them in the same
commit: ``UPDATE_SNAPSHOTS=1 pytest tests/test_openapi_snapshot.py``, then review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from assistant.api import create_app
from assistant.settings import Settings

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def _schema(tmp_path: Path, **settings: str) -> dict:
    app = create_app(assistant=object(), settings=Settings(data_dir=tmp_path, **settings))
    return json.loads(json.dumps(app.openapi(), ensure_ascii=False, sort_keys=True))


@pytest.mark.parametrize("name, settings", [("openapi.json", {}), ("openapi-keys.json", {"api_keys": "k1"})])
def test_openapi_schema_matches_snapshot(tmp_path: Path, name: str, settings: dict) -> None:
    schema = _schema(tmp_path, **settings)
    path = SNAPSHOTS / name
    text = json.dumps(schema, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"missing {path}: run UPDATE_SNAPSHOTS=1 pytest {Path(__file__).name}"
    expected = json.loads(path.read_text(encoding="utf-8"))
    changed = sorted(
        p
        for p in set(expected.get("paths", {})) | set(schema.get("paths", {}))
        if expected.get("paths", {}).get(p) != schema.get("paths", {}).get(p)
    )
    assert schema == expected, f"OpenAPI schema changed (paths: {changed or 'components/info only'}); " + (
        "if on purpose, regenerate with UPDATE_SNAPSHOTS=1 and commit the snapshot with the change"
    )


def test_schema_is_not_trivially_empty(tmp_path: Path) -> None:
    """The snapshot guards something: every public route is in it."""
    paths = set(_schema(tmp_path)["paths"])
    assert {"/v1/chat", "/v1/calculate", "/v1/clauses/{clause_id}", "/v1/feedback", "/healthz"} <= paths
