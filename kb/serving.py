"""Running the app: the development server, with access logs that never show query strings."""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Mapping

from werkzeug.serving import WSGIRequestHandler, get_sockaddr, make_server, select_address_family

log = logging.getLogger("kb.access")


class PrivateRequestHandler(WSGIRequestHandler):
    """Logs method, path and status only: the query string may hold a health worry."""

    def address_string(self) -> str:
        """The peer's own address: never X-Forwarded-For, which the client writes."""
        return self.client_address[0] if self.client_address else "-"

    def log_request(self, code="-", size="-"):
        # A malformed request line leaves no path or command: log what is known, never it.
        path = (getattr(self, "path", None) or "-").split("?", 1)[0]
        command = getattr(self, "command", None) or "-"
        self.log("info", '"%s %s" %s %s', command, path, getattr(code, "value", code), size)

    def log_error(self, format, *args):
        """Errors before the app runs ("Bad request syntax ('GET /?q=...')") quote the raw
        request line, query included: log the status code only."""
        codes = [a for a in args if isinstance(a, int) and not isinstance(a, bool)]
        status = getattr(codes[0], "value", codes[0]) if codes else "-"
        self.log("error", "request refused (%s); the request line is not logged", status)


class CannotListen(OSError):
    """The development server cannot listen on the address asked for; the message says why."""


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port, so that a taken port is known before anything else.

    Raises CannotListen with one line for people (werkzeug would print two and exit).
    """
    try:
        family = select_address_family(host, port)
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        raise CannotListen(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(get_sockaddr(host, port, family))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            reason = f"port {port} is in use; stop that program or choose another --port"
        else:
            reason = exc.strerror or str(exc)
        raise CannotListen(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


def banner(host: str, port: int) -> list[str]:
    """What `kb serve` prints once it is listening: where the pages, docs and spec are."""
    base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    return [
        f"kb: serving {base}/  (API docs: {base}/api/v1/docs, OpenAPI: {base}/api/v1/openapi.json)",
        "kb: development server; for production: gunicorn -c gunicorn.conf.py wsgi:app",
    ]


def run_development_server(
    host: str, port: int, settings: Mapping, sock: socket.socket | None = None
) -> None:
    """Serve kb configured by `settings` (kb.config) on host:port until interrupted.

    `sock` is a socket from listen(host, port), when the caller checked the port first.
    Raises CannotListen (before printing anything) when the address cannot be used.
    """
    from kb.api import create_app

    app = create_app(settings=settings)
    sock = sock or listen(host, port)
    try:
        server = make_server(
            host,
            port,
            app,
            threaded=True,
            request_handler=PrivateRequestHandler,
            fd=sock.fileno(),
        )
    finally:
        sock.close()  # the server holds its own duplicate of the socket
    for line in banner(host, server.port):
        print(line, flush=True)
    server.serve_forever()
