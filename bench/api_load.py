"""HTTP load benchmark for the API, loopback only, bounded in requests and time.

Starts two uvicorn servers (one worker each) on free 127.0.0.1 ports:
  * the real app (``assistant.api:app``, grounded mode, SQLite store in a temp data dir, no access log),
  * a bare FastAPI app with one JSON endpoint (``bare_app`` below): the ceiling for this box,
then drives each endpoint with an async httpx client at bounded concurrency and prints req/s and latency.

Goals: /v1/calculate ≥ 60 % of the bare endpoint's throughput; /v1/chat ≥ 100 req/s with p95 ≤ 200 ms.

    python bench/api_load.py                      # 2000 requests per endpoint, ≤ 30 s each, concurrency 16
    python bench/api_load.py -n 500 --seconds 10 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fastapi import FastAPI

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"

bare_app = FastAPI()


@bare_app.post("/echo")
async def echo(payload: dict) -> dict:
    return {"ok": True, "fields": len(payload)}


PROFILE = {
    "registered_in_beibei": True,
    "local_legal_entity": True,
    "new_hq_type": "regional_hq",
    "registered_capital_yuan": 20000000,
    "online_annual_sales_yuan": "150000000",
    "sales_in_statistics": True,
    "years_in_operation": 2,
    "office_purchase_price_yuan": 3000000,
}
QUESTIONS = [
    "自建电商平台有什么补贴？",
    "新设立区域总部能拿多少奖励？",
    "跨境电商零售交易额达到多少有奖励？",
    "办公用房租金补贴怎么算？",
    "示范企业认定后奖励多少？",
    "电商人才培训有支持吗？",
    "农产品电商由哪个部门牵头？",
    "这个政策什么时候开始执行？",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start(app: str, env: dict[str, str], log_path: Path, app_dir: Path | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(port), "--workers", "1",
           "--no-access-log", "--log-level", "warning"]
    if app_dir:
        cmd += ["--app-dir", str(app_dir)]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    return proc, f"http://{HOST}:{port}"


def wait_ready(proc: subprocess.Popen, url: str, path: str, log_path: Path, timeout: float = 300) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited ({proc.returncode}):\n{log_path.read_text()[-2000:]}")
        try:
            if httpx.get(url + path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server not ready in {timeout}s:\n{log_path.read_text()[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def cpu_seconds(pid: int) -> float | None:
    """User+system CPU time of a process (Linux /proc), to report a load-independent cost per request."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(url: str, make_request, n: int, seconds: float, concurrency: int, warmup: int,
                pid: int | None = None) -> dict:
    """Send up to ``n`` requests (or stop after ``seconds``) with ``concurrency`` in flight."""
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        for i in range(warmup):
            (await client.request(**make_request(-1 - i))).raise_for_status()
        latencies: list[float] = []
        errors = 0
        counter = iter(range(n))
        deadline = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal errors
            for i in counter:
                if time.monotonic() > deadline:
                    return
                t0 = time.perf_counter()
                r = await client.request(**make_request(i))
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors += 1

        cpu_before = cpu_seconds(pid) if pid else None
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        cpu_after = cpu_seconds(pid) if pid else None
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else latencies * 99
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(q[49] * 1000, 1),
        "p95_ms": round(q[94] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "server_cpu_ms_per_req": (
            round((cpu_after - cpu_before) * 1000 / len(latencies), 2)
            if cpu_before is not None and cpu_after is not None and latencies else None
        ),
    }


async def open_sessions(url: str, count: int) -> list[str]:
    """The server issues session ids (a client-chosen one is refused): start ``count`` sessions, one per
    bench user, before the timed run."""
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        async def one(k: int) -> str:
            r = await client.post("/v1/chat", json={"message": QUESTIONS[k % len(QUESTIONS)]},
                                  headers={"X-User-Id": f"openid-bench-{k}"})
            r.raise_for_status()
            return r.json()["session_id"]

        ids: list[str] = []
        for start_k in range(0, count, 16):
            ids += await asyncio.gather(*(one(k) for k in range(start_k, min(count, start_k + 16))))
        return ids


def run(n: int = 2000, seconds: float = 30.0, concurrency: int = 16, sessions: int = 200,
        data_dir: Path | None = None) -> list[dict]:
    tmp = Path(tempfile.mkdtemp(prefix="pa-bench-"))
    data_dir = data_dir or tmp / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PA_")}
    env.update(
        PA_DATA_DIR=str(data_dir),
        PA_RATE_LIMIT_PER_MINUTE="10000000",
        PA_RATE_LIMIT_BURST="10000000",
        ANONYMIZED_TELEMETRY="False",
        HF_HUB_OFFLINE="1",
    )
    bare, bare_url = start("api_load:bare_app", env, tmp / "bare.log", app_dir=Path(__file__).resolve().parent)
    api, api_url = start("assistant.api:app", env, tmp / "api.log")
    try:
        wait_ready(bare, bare_url, "/docs", tmp / "bare.log")
        wait_ready(api, api_url, "/readyz", tmp / "api.log")
        session_ids = asyncio.run(open_sessions(api_url, sessions))

        def bare_req(i: int) -> dict:
            return {"method": "POST", "url": "/echo", "json": PROFILE}

        def calc_req(i: int) -> dict:
            return {"method": "POST", "url": "/v1/calculate", "json": PROFILE}

        def chat_req(i: int) -> dict:
            k = i % sessions
            return {
                "method": "POST",
                "url": "/v1/chat",
                "json": {"message": f"{QUESTIONS[i % len(QUESTIONS)]}（{i}）", "session_id": session_ids[k]},
                "headers": {"X-User-Id": f"openid-bench-{k}"},
            }

        rows = []
        for name, url, make, proc in [
            ("bare FastAPI POST /echo", bare_url, bare_req, bare),
            ("POST /v1/calculate", api_url, calc_req, api),
            ("POST /v1/chat (grounded)", api_url, chat_req, api),
        ]:
            result = asyncio.run(drive(url, make, n, seconds, concurrency, warmup=min(50, n), pid=proc.pid))
            rows.append({"endpoint": name, **result})
        return rows
    finally:
        stop(api)
        stop(bare)


def report(rows: list[dict], concurrency: int) -> tuple[str, bool]:
    head = (f"{'endpoint':<28} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
            f"{'max ms':>8} {'server CPU ms/req':>18}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [f"concurrency {concurrency}, one uvicorn worker each, loopback; {os.cpu_count()} CPUs, "
             f"load average {load:.1f} at the end", head, "-" * len(head)]
    for r in rows:
        cpu = r["server_cpu_ms_per_req"]
        lines.append(f"{r['endpoint']:<28} {r['requests']:>8} {r['errors']:>6} {r['rps']:>8} "
                     f"{r['p50_ms']:>8} {r['p95_ms']:>8} {r['max_ms']:>8} {cpu if cpu is not None else '-':>18}")
    bare, calc, chat = rows
    ratio = calc["rps"] / bare["rps"] if bare["rps"] else 0.0
    ok_calc = ratio >= 0.6 and calc["errors"] == 0
    ok_chat = chat["rps"] >= 100 and chat["p95_ms"] <= 200 and chat["errors"] == 0
    lines.append("")
    lines.append(f"/v1/calculate at {ratio:.0%} of bare throughput (goal ≥ 60%): {'PASS' if ok_calc else 'FAIL'}")
    lines.append(f"/v1/chat {chat['rps']} req/s, p95 {chat['p95_ms']} ms (goal ≥ 100 req/s, p95 ≤ 200 ms): "
                 f"{'PASS' if ok_chat else 'FAIL'}")
    return "\n".join(lines), ok_calc and ok_chat


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=2000, help="requests per endpoint (max 20000)")
    parser.add_argument("--seconds", type=float, default=30.0, help="time cap per endpoint (max 120)")
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    parser.add_argument("--sessions", type=int, default=200, help="chat sessions the requests rotate over")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    n = max(1, min(args.requests, 20000))
    seconds = max(1.0, min(args.seconds, 120.0))
    concurrency = max(1, min(args.concurrency, 256))
    rows = run(n=n, seconds=seconds, concurrency=concurrency, sessions=max(1, args.sessions))
    text, ok = report(rows, concurrency)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=2))
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
