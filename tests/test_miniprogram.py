"""The WeChat mini-program's own tests (wechat/tests/*.test.js, jest + miniprogram-simulate), run against
the real API server on loopback with WeChat login configured against the WeChat stub.

The pages are rendered in jsdom and talk to the server through a test stand-in of the WeChat runtime
(wechat/tests/wx-runtime.js: wx.request over node's http). Node, npm and wechat/node_modules come from
`make test` (scripts/install-system-deps.sh, then `npm ci` in wechat/); without them this test fails, it
does not skip: a missing client test is a failure to notice.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import servers
from wechat_stub import APPID, SECRET, WeChatStub

from assistant.api.wechat_auth import issue_token
from assistant.settings import Settings

WECHAT = Path(__file__).resolve().parent.parent / "wechat"
TOKEN_SECRET = "mini-program-tests-token-secret-0123456789abcdef"
TOKEN_TTL = 3600
JEST_TIMEOUT_S = 600


def _tools() -> tuple[str, Path]:
    npx = shutil.which("npx")
    if shutil.which("node") is None or npx is None:
        pytest.fail(
            "node/npx not found: the mini-program tests need Node.js and npm. Run `make test` "
            "(scripts/install-system-deps.sh installs Debian's nodejs and npm).",
            pytrace=False,
        )
    jest = WECHAT / "node_modules" / ".bin" / "jest"
    if not jest.exists():
        pytest.fail(
            f"{jest} is missing: run `make install-test` (it runs `npm ci` in wechat/) or `cd wechat && npm ci`.",
            pytrace=False,
        )
    return npx, jest


def _expired_token() -> str:
    """A token this server signed that expired a minute ago, as a client holding an old token would send it."""
    settings = Settings(wechat_token_secret=TOKEN_SECRET, wechat_token_ttl=TOKEN_TTL)
    return issue_token("wx_expired", "oStub_expired", settings, now=time.time() - TOKEN_TTL - 60)


@pytest.mark.slow
def test_miniprogram_jest_suite(tmp_path):
    npx, _ = _tools()
    with WeChatStub() as wechat:
        env = {
            "PA_WECHAT_APPID": APPID,
            "PA_WECHAT_SECRET": SECRET,
            "PA_WECHAT_API_BASE": wechat.url,
            "PA_WECHAT_TOKEN_SECRET": TOKEN_SECRET,
            "PA_WECHAT_TOKEN_TTL": str(TOKEN_TTL),
        }
        try:
            url, proc, log_path = servers.start_api_server(tmp_path, env=env)
        except servers.ServerStartError as e:
            pytest.fail(str(e), pytrace=False)
        try:
            started = time.monotonic()
            jest_env = {k: v for k, v in os.environ.items() if not k.startswith("PA_")}
            jest_env.update(PA_TEST_API_BASE=url, PA_TEST_EXPIRED_TOKEN=_expired_token(), CI="1", NO_COLOR="1")
            result = subprocess.run(
                [npx, "--no-install", "jest", "--ci"],
                cwd=WECHAT,
                env=jest_env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=JEST_TIMEOUT_S,
            )
            seconds = time.monotonic() - started
        finally:
            servers.stop_process(proc)
        server_log = log_path.read_text(errors="replace")
    output = f"{result.stdout}\n{result.stderr}"
    print(f"jest finished in {seconds:.1f}s\n{output}")
    assert result.returncode == 0, (
        f"jest failed (exit {result.returncode}):\n{output}\n--- last lines of the API server log ---\n"
        + "\n".join(server_log.splitlines()[-40:])
    )
    for suite in sorted((WECHAT / "tests").glob("*.test.js")):  # every suite ran, none was left out
        assert f"PASS tests/{suite.name}" in output, f"{suite.name} did not pass:\n{output}"
    # The server log shows the client really went through the WeChat login against the stub.
    assert "POST /v1/wechat/login 200" in server_log
    assert TOKEN_SECRET not in server_log
