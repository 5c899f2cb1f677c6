"""The `kb` command's in-process lookups: a KBClient whose requests go to kb's Flask app
in this process instead of over the network.

Answers are exactly what a server over the same index would send, which is how the lookup
commands work without a server and without logic of their own. It lives beside kb.cli, not
in kb.client, so that the client needs only `requests`.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from kb.client import KBClient

LOCAL_BASE_URL = "http://kb.local"  # the made-up host of an in-process client


def in_process_client(index_dir: str, settings: Mapping | None = None) -> KBClient:
    """A KBClient answered by kb's app over `index_dir`, configured by `settings` (kb.config;
    default: the defaults and KB_* environment variables). Raises kb.config.ConfigError for
    a bad setting."""
    from kb.api import create_app
    from kb.config import load_settings

    # No rate limit in-process: the only client is this command (`kb eval` asks many).
    settings = {
        **(load_settings() if settings is None else settings),
        "KB_INDEX_DIR": index_dir,
        "KB_RATE_LIMIT": "",
    }
    session = requests.Session()
    session.mount(LOCAL_BASE_URL + "/", FlaskAdapter(create_app(settings=settings)))
    return KBClient(LOCAL_BASE_URL, retries=0, session=session)


class FlaskAdapter(BaseAdapter):
    """A requests transport that hands each request to a Flask app's test client.

    It lets KBClient run in-process with no socket: same requests, same responses, same
    error mapping as over HTTP.
    """

    def __init__(self, app):
        super().__init__()
        self.client = app.test_client()

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        """Run `request` through the app and wrap its answer as a requests.Response."""
        url = urlsplit(request.url)
        answer = self.client.open(
            url.path,
            method=request.method,
            query_string=url.query,
            # Nothing decodes a compressed body on this path (no urllib3): ask for none.
            headers={**dict(request.headers), "Accept-Encoding": "identity"},
            data=request.body,
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.status.partition(" ")[2]
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.get_data()
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to release: there is no connection."""
