"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py panel.wsgi` (README: Deployment).

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS."""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
# Threaded workers: a request waiting on an upstream (an OTP number, behind the provider's bulkhead of
# PROVIDER_MAX_IN_FLIGHT calls per process) holds one thread, and the other threads serve everyone else.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 8))
# Each process keeps a pool of database connections no larger than its threads (panel/settings.py); a thread
# gives its connection back while it waits on an upstream. The app is imported after this file runs, in
# each worker, so the pool is created per process (never shared across a fork).
os.environ.setdefault("DB_POOL_MAX_SIZE", str(threads))
# The longest request waits for one upstream call (PROVIDER_READ_TIMEOUT, 25 s by default).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
max_requests, max_requests_jitter = 2000, 200  # recycle workers now and then
# The TLS proxy in front sets X-Forwarded-Proto; only trust it from the proxy's address.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# Path only (%(U)s), never the request line (%(r)s) or the query (%(q)s): VirtuSIM-style clients send their
# api_key in the query string. No referrer either: it is a whole URL too.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
