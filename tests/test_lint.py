"""ruff over the code base with the project's rules (pyproject.toml), also when pytest runs alone: an unused import,
an undefined name, a blanket except or a long line fails the build. `make lint` adds the format check and mypy."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is missing: pip install -e '.[test]'", pytrace=False)
    done = subprocess.run([ruff, "check", "assistant", "ui", "bench", "tests"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
