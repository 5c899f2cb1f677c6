"""gunicorn settings for kb: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be overridden with the usual GUNICORN_CMD_ARGS or the KB_* variables below.
"""

import multiprocessing
import os

bind = os.environ.get("KB_BIND", "127.0.0.1:8000")

# Search is CPU-bound Python, so processes give the parallelism; a few threads per process
# keep keep-alive connections and slow clients from blocking a worker. On 2 cores: 3 x 4.
workers = int(os.environ.get("KB_WORKERS", multiprocessing.cpu_count() + 1))
worker_class = "gthread"
threads = int(os.environ.get("KB_THREADS", 4))

# Each worker loads the app itself (no preload), so `kill -HUP` reloads code gracefully.
preload_app = False
timeout = 30            # a search never takes seconds; a stuck worker is restarted
graceful_timeout = 30   # on HUP/TERM, requests in flight may finish
keepalive = 5
max_requests = 10000    # recycle workers now and then, staggered
max_requests_jitter = 1000

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
