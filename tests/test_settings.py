import re
from pathlib import Path

from assistant.settings import REPO_ROOT, Settings


def test_every_setting_is_documented_in_env_example():
    documented = set(re.findall(r"PA_([A-Z0-9_]+)=", (REPO_ROOT / ".env.example").read_text(encoding="utf-8")))
    fields = {name.upper() for name in Settings.model_fields}
    assert fields - documented == set(), "undocumented settings"
    assert documented - fields == set(), ".env.example documents settings that do not exist"


def test_env_vars_override(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PA_TOP_K", "7")
    s = Settings()
    assert s.data_dir == tmp_path and s.top_k == 7
    assert s.resolved_chroma_dir == tmp_path / "chroma"
    assert s.resolved_database_url == f"sqlite:///{tmp_path / 'assistant.db'}"


def test_api_keys_are_split_and_trimmed():
    assert Settings(api_keys=" a, b ,,c").api_key_list == ["a", "b", "c"]
