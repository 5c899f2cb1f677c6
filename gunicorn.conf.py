"""gunicorn settings for kb: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be overridden with the usual GUNICORN_CMD_ARGS or the KB_* variables below.
"""

import multiprocessing
import os

bind = os.environ.get("KB_BIND", "127.0.0.1:8000")

# Search is CPU-bound Python: processes give the parallelism, one per core. Threads do not
# add CPU under the GIL; they only make requests of one process wait for each other, which
# shows as tail latency. Measured with benchmarks/load.py on 2 cores (docs/deploying.md):
# 3 workers x 1 thread vs 3 x 4 at 8 connections: typical queries p99 13 ms vs 58 ms,
# long-tail queries 434 vs 312 req/s. kb's worker class spreads kept-alive connections
# evenly over the workers (kb/gunicorn_worker.py); with that, one worker per core beat
# cores + 1 in two paired runs (load.py --workers 2|3 --connections 8): +30% and +39%
# req/s on typical queries (p99 8-47 ms vs 138-164 ms), +28% and +31% on long-tail ones.
# A third busy process only takes turns on the two cores. gthread (even with 1 thread)
# keeps idle keep-alive connections (nginx's upstream pool) in its event loop, which the
# sync worker cannot. In front of the open internet, put nginx before kb: it buffers slow
# clients.
workers = int(os.environ.get("KB_WORKERS", multiprocessing.cpu_count()))
# gthread, with gunicorn's own 400/414/431 pages in kb's Error JSON (kb/gunicorn_worker.py).
worker_class = "kb.gunicorn_worker.KbThreadWorker"
threads = int(os.environ.get("KB_THREADS", 1))

# Each worker loads the app itself (no preload), so `kill -HUP` reloads code gracefully.
preload_app = False
timeout = 30  # a search never takes seconds; a stuck worker is restarted
graceful_timeout = 30  # on HUP/TERM, requests in flight may finish
keepalive = 5
# Recycle workers now and then, staggered: a safety net, not a leak fix (benchmarks/soak.py:
# RSS grew 1.2% over 10 minutes of mixed traffic and 3 rebuilds without recycling). Each
# restart boots a worker with cold caches, and at 10,000 requests a saturated 2-core server
# restarted one every few seconds: single requests waited 170-420 ms behind the boot
# (benchmarks/load.py, typical queries at 8 connections, p99 166-315 ms).
max_requests = 200_000
max_requests_jitter = 20_000

# gunicorn >= 25 opens a control socket for `gunicornc` at ~/.gunicorn/gunicorn.ctl by default:
# one fixed path per user, so two kb instances on one host (replicas, tests) would take it
# from each other. kb is managed with signals (HUP, TERM), so it is off unless asked for.
if os.environ.get("KB_CONTROL_SOCKET"):
    control_socket = os.environ["KB_CONTROL_SOCKET"]
else:
    control_socket_disable = True

# Request line and header limits (the app refuses long URLs with a JSON 414 as well).
limit_request_line = 8190
limit_request_fields = 50
limit_request_field_size = 8190

# Privacy: the access log has the path without the query string (%(U)s), never %(r)s,
# %(q)s or the referrer, because the query is what someone typed about their health.
accesslog = os.environ.get("KB_ACCESS_LOG", "-")
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("KB_LOG_LEVEL", "info")

# Counts-only metrics (KB_METRICS=true): prometheus-client's multiprocess mode, so /metrics
# on any worker adds up all of them. Each start gets a fresh directory unless one is given.
if os.environ.get("KB_METRICS", "").strip().lower() in ("1", "true", "yes", "on"):
    import tempfile

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="kb-metrics-")

    def child_exit(server, worker):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
