"""The API under a real uvicorn on a loopback port: parallel load over many sessions, SSE over the wire,
and durability across ``kill -9`` of the server process in the middle of a load."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn

from assistant.api import create_app
from assistant.assistant import PolicyAssistant
from assistant.schemas import ChatResponse
from assistant.settings import Settings
from assistant.sql_store import SqlStore

try:
    from servers import free_port
except ImportError:  # pragma: no cover - tests/servers.py is optional
    import socket

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]


pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "自建电商平台有什么补贴？",
    "新设立区域总部能拿多少奖励？",
    "跨境电商零售交易额达到多少有奖励？",
    "办公用房租金补贴怎么算？",
    "示范企业认定后奖励多少？",
]


class ThreadedUvicorn:
    """uvicorn.Server serving an app object in a background thread (same process as the test)."""

    def __init__(self, app) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "ThreadedUvicorn":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("server-data")


@pytest.fixture(scope="module")
def store(data_dir):
    s = SqlStore(f"sqlite:///{data_dir / 'server.db'}")
    yield s
    s.close()


@pytest.fixture(scope="module")
def live(data_dir, store):
    settings = Settings(data_dir=data_dir, api_keys="", cors_origins="", llm_base_url=None,
                        rate_limit_per_minute=100_000, rate_limit_burst=100_000, max_body_bytes=65536)
    pa = PolicyAssistant(settings=settings, store=store, mode="grounded")
    with ThreadedUvicorn(create_app(pa, settings)) as server:
        yield server


@pytest.mark.timeout(300)
def test_100_parallel_chats_over_20_sessions(live, store):
    sessions = [(f"{k:02d}" + "c" * 30, f"openid-{k:02d}") for k in range(20)]
    for sid, user in sessions:  # the API continues only sessions it (or the library) created for the user
        store.ensure_session(sid, user)
    jobs = [(sessions[i % 20], f"{QUESTIONS[i % len(QUESTIONS)]}（第{i}问）") for i in range(100)]
    local = threading.local()

    def send(job):
        (sid, user), message = job
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=live.url, timeout=60)
        r = local.client.post("/v1/chat", json={"message": message, "session_id": sid}, headers={"X-User-Id": user})
        return job, r.status_code, r.json()

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(send, jobs))
    assert [status for _, status, _ in results] == [200] * 100, [body for _, s, body in results if s != 200][:3]

    returned = {message: ChatResponse.model_validate(body) for ((_, _), message), _, body in results}
    for sid, user in sessions:
        turns = store.turns(sid, user)
        assert [t.index for t in turns] == list(range(5))  # every turn stored, numbered in order, no gaps
        assert sorted(t.message for t in turns) == sorted(m for (s, _), m in jobs if s == sid)
        for turn in turns:  # the stored reply is the one that was sent back for that message
            assert turn.response == returned[turn.message]
            assert turn.response.session_id == sid


@pytest.mark.timeout(300)
def test_two_instances_share_one_postgres_database(postgres_url, data_dir):
    """Two API instances (own assistant, own store, own port) on one PostgreSQL database, both answering
    turns of the same sessions at once: turn numbers stay unique and gap-free (row lock + PK)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"pa_api_{os.getpid()}_{int(time.time())}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    settings = Settings(data_dir=data_dir, api_keys="", cors_origins="", llm_base_url=None,
                        rate_limit_per_minute=100_000, rate_limit_burst=100_000)
    stores = [SqlStore(url), SqlStore(url)]
    for k in range(6):
        stores[0].ensure_session(f"pg{k}", "openid-pg")
    try:
        instances = [PolicyAssistant(settings=settings, store=st, mode="grounded") for st in stores]
        with ThreadedUvicorn(create_app(instances[0], settings)) as one, \
                ThreadedUvicorn(create_app(instances[1], settings)) as two:
            jobs = [(i, f"pg{i % 6}", f"{QUESTIONS[i % len(QUESTIONS)]}（pg-{i}）") for i in range(60)]

            def send(job):
                i, sid, message = job
                base = (one, two)[(i // 6) % 2].url  # each session alternates between the instances
                r = httpx.post(f"{base}/v1/chat", json={"message": message, "session_id": sid},
                               headers={"X-User-Id": "openid-pg"}, timeout=60)
                return message, r.status_code, r.json()

            with ThreadPoolExecutor(16) as pool:
                results = list(pool.map(send, jobs))
        assert all(status == 200 for _, status, _ in results)
        returned = {m: ChatResponse.model_validate(body) for m, _, body in results}
        for k in range(6):
            turns = stores[0].turns(f"pg{k}", "openid-pg")
            assert [t.index for t in turns] == list(range(10))
            assert all(t.response == returned[t.message] for t in turns)
    finally:
        for st in stores:
            st.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.timeout(120)
def test_sse_over_the_wire_is_chunked(live, store):
    with httpx.Client(base_url=live.url, timeout=30) as client:
        with client.stream("POST", "/v1/chat/stream", json={"message": QUESTIONS[0]},
                           headers={"X-User-Id": "openid-sse", "X-Request-Id": "sse-1"}) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            assert r.headers.get("transfer-encoding") == "chunked"  # what wx.request enableChunked needs
            assert r.headers["x-request-id"] == "sse-1"
            raw = b"".join(r.iter_bytes())
    events = []
    for block in raw.decode("utf-8").split("\n\n"):
        if block.strip():
            lines = dict(line.split(": ", 1) for line in block.splitlines())
            events.append((lines["event"], json.loads(lines["data"])))
    assert events[-1][0] == "done"
    done = ChatResponse.model_validate(events[-1][1])
    assert "".join(e[1]["text"] for e in events[:-1]) == done.answer
    assert store.turns(done.session_id, "openid-sse")[-1].response == done


# --- kill -9 -----------------------------------------------------------------------------------------


def _start_server(data_dir: Path, port: int, log_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PA_")}
    env.update(
        PA_DATA_DIR=str(data_dir),
        PA_RATE_LIMIT_PER_MINUTE="100000",
        PA_RATE_LIMIT_BURST="100000",
        ANONYMIZED_TELEMETRY="False",
        HF_HUB_OFFLINE="1",
    )
    log = open(log_path, "ab")
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "assistant.api:app", "--host", "127.0.0.1", "--port", str(port),
         "--no-access-log"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_ready(proc: subprocess.Popen, url: str, log_path: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"uvicorn exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"uvicorn not ready within {timeout}s:\n{log_path.read_text()[-3000:]}")


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


@pytest.mark.timeout(600)
def test_kill_9_mid_load_loses_no_answered_turn(tmp_path):
    data_dir = tmp_path / "data"
    log_path = tmp_path / "uvicorn.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    seed = SqlStore(f"sqlite:///{data_dir / 'assistant.db'}")  # the sessions the workers continue
    for w in range(8):
        for j in range(2):
            seed.ensure_session(f"k{w}s{j}", f"openid-k{w}")
    seed.close()
    proc = _start_server(data_dir, port, log_path)
    try:
        _wait_ready(proc, url, log_path)
        answered: list[tuple[str, str, str, dict]] = []  # (session, user, message, response)
        failures: list[str] = []
        stop = threading.Event()
        lock = threading.Lock()

        def worker(w: int) -> None:
            user = f"openid-k{w}"
            sessions = [f"k{w}s{j}" for j in range(2)]
            with httpx.Client(base_url=url, timeout=20) as client:
                i = 0
                while not stop.is_set():
                    sid = sessions[i % 2]
                    message = f"{QUESTIONS[i % len(QUESTIONS)]}（{w}-{i}）"
                    i += 1
                    try:
                        r = client.post("/v1/chat", json={"message": message, "session_id": sid},
                                        headers={"X-User-Id": user})
                    except httpx.HTTPError as exc:  # the server died under this request
                        with lock:
                            failures.append(type(exc).__name__)
                        return
                    if r.status_code == 200:
                        with lock:
                            answered.append((sid, user, message, r.json()))

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(answered) < 60 and time.monotonic() < deadline:
            time.sleep(0.01)
        _kill(proc)  # kill -9 in the middle of the load
        stop.set()
        for t in threads:
            t.join(timeout=30)
        print(f"kill -9 after {len(answered)} answered turns, {len(failures)} requests in flight")
        assert len(answered) >= 60, log_path.read_text()[-3000:]
        assert failures, "no request was in flight at the kill"

        db = data_dir / "assistant.db"
        with sqlite3.connect(db) as raw:  # opens cleanly after the crash (WAL recovery) and is intact
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

        proc = _start_server(data_dir, port, log_path)
        _wait_ready(proc, url, log_path)
        with sqlite3.connect(db) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

        by_session: dict[tuple[str, str], dict[str, dict]] = {}
        for sid, user, message, response in answered:
            by_session.setdefault((sid, user), {})[message] = response
        with httpx.Client(base_url=url, timeout=20) as client:
            for (sid, user), expected in by_session.items():
                r = client.get(f"/v1/sessions/{sid}", headers={"X-User-Id": user})
                assert r.status_code == 200, r.text
                turns = r.json()["turns"]
                assert [t["index"] for t in turns] == list(range(len(turns)))
                stored = {t["message"]: t["response"] for t in turns}
                for message, response in expected.items():  # every 200 is there, with the reply we got
                    assert stored.get(message) == response
                # at most the one in-flight turn per session is unanswered (answers are serialized per session)
                assert sum(t["response"] is None for t in turns) <= 1
            # the service carries on where it stopped
            (sid, user), expected = next(iter(by_session.items()))
            before = len(client.get(f"/v1/sessions/{sid}", headers={"X-User-Id": user}).json()["turns"])
            r = client.post("/v1/chat", json={"message": "重启后继续提问", "session_id": sid},
                            headers={"X-User-Id": user})
            assert r.status_code == 200
            after = client.get(f"/v1/sessions/{sid}", headers={"X-User-Id": user}).json()["turns"]
            assert len(after) == before + 1 and after[-1]["message"] == "重启后继续提问"
    finally:
        _kill(proc)
