"""Schemathesis against the API as deployed (`python -m assistant serve` on loopback): every operation, the
examples, coverage, fuzzing and stateful phases, ``--checks all``, a fixed seed. Any 5xx, response that
violates the schema, undocumented status, accepted invalid input or rejected valid input fails the test.

Two deployments are fuzzed, because the document differs: with API keys (then ``X-User-Id`` is required
and the key is checked, including schemathesis' own probes with a missing or wrong key) and open (no keys).
The CI run is bounded (about a minute); a long local run:

    .venv/bin/python tests/test_api_fuzz.py --max-examples 1500      # prints requests, 5xx, failures
    .venv/bin/python tests/test_api_fuzz.py --max-time 300           # or: keep fuzzing 5 minutes per deployment
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import start_api_server, stop_process
from wechat_stub import APPID, SECRET, WeChatStub

pytestmark = pytest.mark.slow

KEY = "fuzz-key"
SEED = 20240610
UNLIMITED = "1000000000"
DEPLOYMENTS = {
    "keys": {"PA_API_KEYS": KEY, "PA_CORS_ORIGINS": "https://servicewechat.com"},
    "open": {"PA_API_KEYS": "", "PA_CORS_ORIGINS": "https://servicewechat.com"},
}
#: Per deployment in CI; with 4 workers each run takes about 40 s on the reference VM.
CI_MAX_EXAMPLES = 200
CI_TIME_LIMIT_S = 80  # per run; the whole module stays under 3 minutes


@dataclass
class FuzzResult:
    exit_code: int
    test_cases: int
    failures: list
    requests: int
    server_errors: int
    statuses: dict[int, int]
    seconds: float
    output: str

    def summary(self) -> str:
        return (f"{self.requests} requests ({self.test_cases} generated test cases) in {self.seconds:.0f}s; "
                f"5xx: {self.server_errors}; schemathesis failures: {len(self.failures)}; statuses: "
                + ", ".join(f"{k}×{v}" for k, v in sorted(self.statuses.items())))


def _request_lines(log_path: Path) -> list[dict]:
    entries = []
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{") and '"event":"request"' in line:
            entries.append(json.loads(line))
    return entries


def run_schemathesis(url: str, log_path: Path, deployment: str, *, max_examples: int, seed: int = SEED,
                     workers: int = 4, timeout: float = CI_TIME_LIMIT_S, report_dir: Path,
                     max_time: float | None = None) -> FuzzResult:
    """One schemathesis run against a live server; counts what the server saw from its own request log."""
    before = len(_request_lines(log_path))
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{url}/openapi.json",
        "--checks", "all",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--seed", str(seed),
        "--max-examples", str(max_examples),
        "--workers", str(workers),
        "--request-timeout", "30",
        "--generation-database", "none",
        "--no-color",
        "--report", "json", "--report-dir", str(report_dir),
    ]
    if deployment == "keys":
        cmd += ["--header", f"Authorization: Bearer {KEY}"]
    if max_time:  # fuzzing and stateful phases repeat until the budget is spent (long runs only)
        cmd += ["--max-time", str(int(max_time))]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=report_dir, check=False)
    seconds = time.monotonic() - started
    time.sleep(0.5)  # the last access lines
    seen = _request_lines(log_path)[before:]
    statuses: dict[int, int] = {}
    for entry in seen:
        statuses[entry["status"]] = statuses.get(entry["status"], 0) + 1
    reports = sorted(report_dir.glob("*.json"))
    report = json.loads(reports[-1].read_text()) if reports else {}
    return FuzzResult(
        exit_code=proc.returncode,
        test_cases=report.get("test_cases", {}).get("generated", 0),
        failures=report.get("failures", []) + report.get("errors", []),
        requests=len(seen),
        server_errors=sum(n for status, n in statuses.items() if status and status >= 500),
        statuses=statuses,
        seconds=seconds,
        output=proc.stdout[-6000:] + proc.stderr[-3000:],
    )


_WECHAT: list[WeChatStub] = []  # one stand-in for the whole module, alive as long as the process


def _wechat_env() -> dict[str, str]:
    """WeChat login configured against the loopback stand-in, so /v1/wechat/login is fuzzed as deployed (an
    unconfigured login is a 503 by design, which a fuzzer rightly reports as a server error)."""
    if not _WECHAT:
        _WECHAT.append(WeChatStub())
    return {
        "PA_WECHAT_APPID": APPID,
        "PA_WECHAT_SECRET": SECRET,
        "PA_WECHAT_API_BASE": _WECHAT[0].url,
        "PA_WECHAT_TOKEN_SECRET": "fuzz-token-secret-" + "0" * 32,
    }


def start(deployment: str, tmpdir: Path) -> tuple[str, object, Path]:
    env = {
        **DEPLOYMENTS[deployment],
        **_wechat_env(),
        "PA_RATE_LIMIT_PER_MINUTE": UNLIMITED,
        "PA_RATE_LIMIT_BURST": UNLIMITED,
        # schemathesis probes every operation with a missing and a wrong key: those must stay 401, not 429
        "PA_AUTH_FAILURES_PER_MINUTE": UNLIMITED,
        "PA_AUTH_FAILURE_BURST": UNLIMITED,
    }
    return start_api_server(tmpdir, env=env)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("deployment", list(DEPLOYMENTS))
def test_schemathesis_finds_nothing(deployment, tmp_path):
    url, proc, log_path = start(deployment, tmp_path / "server")
    try:
        report_dir = tmp_path / "report"
        report_dir.mkdir()
        result = run_schemathesis(url, log_path, deployment, max_examples=CI_MAX_EXAMPLES, report_dir=report_dir)
    finally:
        stop_process(proc)
    print(f"schemathesis ({deployment}): {result.summary()}")
    assert result.exit_code == 0, result.output
    assert result.failures == [], result.output
    assert result.server_errors == 0, result.statuses
    assert result.requests >= 500, result.summary()  # it really ran: every operation, many cases
    assert 200 in result.statuses and 422 in result.statuses, result.statuses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A long schemathesis run against both deployments.")
    parser.add_argument("--max-examples", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--max-time", type=float, default=None,
                        help="seconds per deployment; schemathesis keeps fuzzing until they are spent")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--deployment", choices=[*DEPLOYMENTS, "both"], default="both")
    args = parser.parse_args(argv)
    total_requests = total_5xx = total_failures = 0
    with tempfile.TemporaryDirectory(prefix="pa-fuzz-") as tmp:
        for deployment in DEPLOYMENTS if args.deployment == "both" else [args.deployment]:
            url, proc, log_path = start(deployment, Path(tmp) / deployment)
            try:
                report_dir = Path(tmp) / f"{deployment}-report"
                report_dir.mkdir()
                result = run_schemathesis(url, log_path, deployment, max_examples=args.max_examples, seed=args.seed,
                                          workers=args.workers, timeout=args.timeout, report_dir=report_dir,
                                          max_time=args.max_time)
            finally:
                stop_process(proc)
            print(f"{deployment}: {result.summary()}")
            if result.exit_code or result.failures:
                print(result.output)
            total_requests += result.requests
            total_5xx += result.server_errors
            total_failures += len(result.failures)
    print(f"total: {total_requests} requests, {total_5xx} 5xx, {total_failures} schemathesis failures")
    return 1 if total_5xx or total_failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
