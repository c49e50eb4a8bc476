"""The demo under a burst: `python -m bench.demo_burst` (BENCHMARKS.md, "Demo burst").

`manage.py demo` on its embedded SQLite (a fresh database in a temporary folder, its own port), a
1,000-packet RajaSMS send with 1,000 distinct messages through the reseller API, then the reseller's pages
timed every ~0.5 s while the sandbox's 1,000 delivery reports arrive and are applied. Prints the send's
reply time and the page latencies (median, worst per page). Needs nothing but this checkout."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = str(Path(__file__).resolve().parent.parent)
WORKDIR = tempfile.mkdtemp(prefix="demo_burst_")
DB = os.path.join(WORKDIR, "panel.sqlite3")
with socket.socket() as _probe:
    _probe.bind(("127.0.0.1", 0))
    PORT = _probe.getsockname()[1]
BASE = f"http://127.0.0.1:{PORT}"
LOG = os.path.join(WORKDIR, "demo.log")
env = {
    **os.environ,
    "DATABASE_URL": f"sqlite:///{DB}",
    "SANDBOX_ENABLED": "1",
    "PANEL_PUBLIC_URL": BASE,
    "LOG_LEVEL": "WARNING",
    "Q_CLUSTER_NAME": f"demo_burst_{PORT}",
}
env.pop("REDIS_URL", None)
log = open(LOG, "w")
demo = subprocess.Popen(  # noqa: S603 - this Python, our own arguments
    [sys.executable, "manage.py", "demo", "--addr", f"127.0.0.1:{PORT}"],
    cwd=ROOT,
    env=env,
    stdout=log,
    stderr=subprocess.STDOUT,
    start_new_session=True,
)
try:
    for _ in range(240):
        time.sleep(0.5)
        text = Path(LOG).read_text()
        if "Catalogue sync:" in text and text.count("  Sandbox") >= 5:
            break
    time.sleep(2)
    text = Path(LOG).read_text()
    password = re.search(r"Reseller:\s+\S+ / (\S+)", text).group(1)
    key = (
        subprocess.run(
            [sys.executable, "manage.py", "reseller_apikey", "reseller"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    web = requests.Session()
    page = web.get(BASE + "/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    r = web.post(
        BASE + "/accounts/login/",
        data={"username": "reseller", "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": BASE + "/accounts/login/"},
    )
    assert "/accounts/login" not in r.url, "login failed"
    packets = [
        {"number": f"0812{i:08d}", "message": f"Pesan nomor {i} untuk pelanggan", "sendingdatetime": ""}
        for i in range(1000)
    ]
    t0 = time.perf_counter()
    reply = requests.post(
        BASE + "/sms/api_sms_reguler_send_json.php",
        json={"apikey": key, "callbackurl": "", "datapacket": packets},
        timeout=120,
    )
    send_s = time.perf_counter() - t0
    respon = reply.json()["sending_respon"][0]
    codes = {}
    for p in respon.get("datapacket") or []:
        codes[p["packet"]["sendingstatus"]] = codes.get(p["packet"]["sendingstatus"], 0) + 1
    print(
        f"send reply: HTTP {reply.status_code} globalstatus {respon['globalstatus']} in {send_s:.2f} s; codes {codes}"
    )
    db = sqlite3.connect(DB, timeout=30)
    order_id = db.execute("select max(id) from orders_order").fetchone()[0]
    pages = ["/", "/pesanan/", f"/pesanan/{order_id}/", "/katalog/", "/accounts/saldo/"]
    worst, samples = {p: 0.0 for p in pages}, []
    end = time.monotonic() + 90
    seen_events = 0
    while time.monotonic() < end:
        for p in pages:
            t = time.perf_counter()
            resp = web.get(BASE + p, timeout=60)
            dt = time.perf_counter() - t
            samples.append(dt)
            worst[p] = max(worst[p], dt)
            assert resp.status_code == 200, (p, resp.status_code)
        events = db.execute("select count(*), sum(applied_at is not null) from orders_callbackevent").fetchone()
        status = db.execute("select status from orders_order where id=?", (order_id,)).fetchone()[0]
        if events[0] != seen_events:
            elapsed = 90 - (end - time.monotonic())
            print(f"t+{elapsed:.0f}s: {events[0]} reports stored, {events[1]} applied; order {status}")
            seen_events = events[0]
        if events[0] >= 1000 and events[1] == events[0] and status not in ("submitting", "processing"):
            break
        time.sleep(0.2)
    print(
        "order status:",
        db.execute("select status, charge, refunded from orders_order where id=?", (order_id,)).fetchone(),
    )
    median, worst_ms = statistics.median(samples) * 1000, max(samples) * 1000
    print(f"pages: {len(samples)} requests, median {median:.0f} ms, max {worst_ms:.0f} ms")
    print("worst per page (ms):", {p: round(v * 1000) for p, v in worst.items()})
finally:
    os.killpg(demo.pid, signal.SIGTERM)
    try:
        demo.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(demo.pid, signal.SIGKILL)
    print(f"demo log: {LOG}")
