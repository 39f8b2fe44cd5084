"""OpenAPI examples, read from corpus/api_examples.yaml: sample questions, profiles and a chat reply live
with the other data, so the HTTP layer holds no clause id or amount of its own."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from assistant.settings import get_settings


@lru_cache(maxsize=1)
def api_examples() -> dict[str, Any]:
    path = get_settings().corpus_dir / "api_examples.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):  # documentation only: a missing file must not stop the API
        return {}
    return data if isinstance(data, dict) else {}


def example(key: str, default: Any = None) -> Any:
    return api_examples().get(key, default)
