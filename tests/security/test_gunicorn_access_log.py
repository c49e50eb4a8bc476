"""The production web server's access log (deploy/gunicorn.conf.py) never prints a reseller's API key.

VirtuSIM-style clients send `api_key` in the query string; gunicorn's default access-log line holds the whole
request line. This starts the real gunicorn with our config on a migrated SQLite file, calls the downstream
API with a real key, and scans everything gunicorn printed. The same run with gunicorn's request-line format
shows the scan would catch the key."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[dict[str, str], str]:
    """A migrated SQLite panel with one reseller and the reseller's API key (set up by the real commands)."""
    tmp = tmp_path_factory.mktemp("gunicorn")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'panel.sqlite3'}", "DJANGO_ENV": "development"}
    env.pop("REDIS_URL", None)

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    manage("migrate", "--noinput", "-v", "0")
    manage("reseller_add", "tokoku", "--password", "tokoku-Secret-123", "--deposit", "50000")
    key = manage("reseller_apikey", "tokoku").strip().splitlines()[-1]
    assert len(key) >= 32
    return env, key


def _serve_and_call(env: dict[str, str], key: str, log_path: Path, extra: list[str]) -> str:
    port = _free_port()
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"}
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(GUNICORN), "-c", "deploy/gunicorn.conf.py", *extra, "panel.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()[-2000:]
                time.sleep(0.2)
        active = requests.get(f"{base}/api/json.php", params={"api_key": key, "action": "active_order"}, timeout=10)
        assert active.json() == {"status": True, "data": []}, active.text  # the key was accepted
        requests.get(f"{base}/api/json.php", params={"api_key": key[:-4] + "0000", "action": "services"}, timeout=10)
        balance = requests.post(f"{base}/api/v2", data={"key": key, "action": "balance"}, timeout=10)
        assert balance.json()["balance"].startswith("50000"), balance.text
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return log_path.read_text(errors="replace")


def _leaks(text: str, key: str) -> bool:
    return any(form in text for form in {key, quote(key), key[:-4]})


def test_access_log_shows_paths_but_never_the_api_key(site, tmp_path):
    env, key = site
    output = _serve_and_call(env, key, tmp_path / "gunicorn.log", [])
    access = [line for line in output.splitlines() if '"GET /api/json.php HTTP/1.1" 200' in line]
    assert len(access) == 2, output[-2000:]  # both calls logged, by path
    assert '"POST /api/v2 HTTP/1.1" 200' in output
    assert not _leaks(output, key), output[-2000:]


def test_the_scan_catches_a_key_in_the_request_line(site, tmp_path):
    env, key = site
    output = _serve_and_call(env, key, tmp_path / "gunicorn.log", ["--access-logformat", "%(r)s"])
    assert _leaks(output, key)
