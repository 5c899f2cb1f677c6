"""Running the app: the development server, with access logs that never show query strings."""

from __future__ import annotations

import logging

from werkzeug.serving import WSGIRequestHandler, run_simple

log = logging.getLogger("kb.access")


class PrivateRequestHandler(WSGIRequestHandler):
    """Logs method, path and status only: the query string may hold a health worry."""

    def log_request(self, code="-", size="-"):
        path = self.path.split("?", 1)[0]
        self.log("info", '"%s %s" %s %s', self.command, path, getattr(code, "value", code), size)


def run_development_server(host: str, port: int) -> None:
    from kb.api import create_app

    app = create_app()
    print(f"kb: serving http://{host}:{port}/  (API: http://{host}:{port}/api/v1/)")
    print("kb: development server; for production: gunicorn -c gunicorn.conf.py wsgi:app")
    run_simple(host, port, app, threaded=True, request_handler=PrivateRequestHandler)
