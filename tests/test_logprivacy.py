"""kb.logprivacy.scrub: what each server's log lines keep and lose."""

from __future__ import annotations

import logging

import pytest

from kb.logprivacy import ScrubQueries, scrub

CASES = [
    (  # gunicorn access line, no query: unchanged
        '127.0.0.1 "GET /api/v1/search HTTP/1.1" 200 5689 7ms',
        '127.0.0.1 "GET /api/v1/search HTTP/1.1" 200 5689 7ms',
    ),
    (  # werkzeug request line with a query and a space in it
        '127.0.0.1 - - [d] "GET /api/v1/search?q=a secret b HTTP/1.1" 200 -',
        '127.0.0.1 - - [d] "GET /api/v1/search?[query removed] HTTP/1.1" 200 -',
    ),
    (  # gunicorn refusal that quotes only part of the line
        "Invalid request from ip=127.0.0.1: Invalid HTTP Version: 'secret b'",
        "Invalid request from ip=127.0.0.1: Invalid HTTP Version (request line not logged)",
    ),
    (
        "code 400, message Bad request syntax ('GET /?q=secret\\tx HTTP/1.1')",
        "code 400, message Bad request syntax (request line not logged)",
    ),
    (  # a line with no method and path at all (a TLS hello)
        '127.0.0.1 - - [d] "\x1b[31m\x16\x03secret\x1b[0m" 400 -',
        '127.0.0.1 - - [d] "[request line not logged]" 400 -',
    ),
    (
        "Error handling request /api/v1/search?q=secret",
        "Error handling request /api/v1/search?[query removed]",
    ),
    ("Is this ok? yes", "Is this ok? yes"),  # prose keeps its question marks
]


@pytest.mark.parametrize(("line", "expected"), CASES)
def test_scrub(line, expected):
    assert scrub(line) == expected


def test_filter_rewrites_arguments_and_tracebacks():
    try:
        raise ValueError("/api/v1/search?q=secret failed")
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, '"%s" %s', ("GET /?q=secret HTTP/1.1", 200), exc_info
    )
    assert ScrubQueries().filter(record) is True
    formatted = logging.Formatter().format(record)
    assert "secret" not in formatted
    assert "ValueError" in formatted and '"GET /?[query removed] HTTP/1.1" 200' in formatted
