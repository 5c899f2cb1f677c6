"""Settings: documented defaults, overridden by KB_* environment variables, then by a test dict.

This is the only module that reads KB_* environment variables; everything else is handed
the settings. Every key is listed in SETTINGS with its default and meaning; README's
configuration table is checked against it by tests/test_docs.py, so a new setting cannot go
undocumented.

Values are checked once, at start-up (`load_settings`, `validate`): a bad value stops
`create_app`, and so gunicorn, `flask run` and every `kb` command that needs it, with one
line per bad value, instead of failing request after request later.

It imports nothing from kb, so any module may use it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

# The crisis notice's default text (kb.safety shows it): neutral, so right everywhere.
DEFAULT_CRISIS_TITLE = "If you are in danger now"
DEFAULT_CRISIS_MESSAGE = (
    "If you or someone you know is in danger now, call your local emergency number. "
    "You do not have to wait for an appointment: emergency services and crisis lines "
    "are there for moments like this."
)

SETTINGS: dict[str, tuple[object, str]] = {
    "KB_CORPUS_DIR": ("corpus", "Directory of Markdown articles that `kb build` reads."),
    "KB_INDEX_DIR": ("index", "Directory of index builds that the server reads."),
    "KB_TAXONOMY": (
        "",
        "Path of a taxonomy YAML file to use instead of the packaged kb/data/taxonomy.yaml "
        "(see `taxonomy_path`). Empty: the packaged one.",
    ),
    "KB_CORS_ORIGINS": (
        [],
        "Origins allowed to call the API from a browser, as a JSON list "
        '(e.g. `["https://clinic.example"]`). Empty: no cross-origin access.',
    ),
    "KB_LOG_QUERIES": (False, "Log raw query text. Off by default: queries are health data."),
    "KB_PUBLIC_URL": (
        "",
        "Public base URL of kb (e.g. `https://kb.clinic.example`) for every absolute link "
        "it writes (hit and article `url`s, the demo page), in-process `kb` lookups "
        "included. Empty: the request's own host.",
    ),
    "KB_METRICS": (
        False,
        "Serve counts-only Prometheus metrics at `/metrics` (no query text, no ids).",
    ),
    "KB_RATE_LIMIT": (
        "20 per second;600 per minute",
        "Per-client request limit for the API (flask-limiter syntax). Empty: no limit.",
    ),
    "KB_RATE_LIMIT_STORAGE": (
        "memory://",
        "Where rate-limit counters live, e.g. `redis://host:6379` to share them across "
        "processes. In memory, each worker process counts on its own.",
    ),
    "KB_PROXY_COUNT": (
        0,
        "How many reverse proxies in front of kb to trust for the client address "
        "(X-Forwarded-For), which the rate limit keys on.",
    ),
    "KB_MAX_URL_LENGTH": (8000, "Longest accepted URL path and query string (else 414)."),
    "KB_MAX_BODY_BYTES": (16384, "Largest accepted request body (else 413)."),
    "KB_CRISIS_TITLE": (DEFAULT_CRISIS_TITLE, "Title of the notice shown for crisis queries."),
    "KB_CRISIS_MESSAGE": (DEFAULT_CRISIS_MESSAGE, "Text of the notice shown for crisis queries."),
    "KB_CRISIS_RESOURCES": (
        [],
        'Crisis resources as a JSON list of objects, e.g. `[{"name": "Clinic line", '
        '"phone": "555-0100", "url": "https://..."}]`: a name and at least one of phone, '
        "url or sms.",
    ),
    "KB_SITE_NAME": (
        "Knowledge base",
        "Name of the site in the header of kb's pages, their titles and as the publisher "
        "of article pages.",
    ),
    "KB_SITE_URL": (
        "",
        "The clinic's home page (an http(s) URL or a path starting with /): the site name "
        "and the first breadcrumb link there. Empty: kb's own home page.",
    ),
    "KB_SITE_LOGO": (
        "",
        "URL of a logo image for the header of kb's pages (http(s) or a path starting with "
        "/); its origin is added to the pages' CSP img-src. Empty: no logo.",
    ),
    "KB_SITE_STYLESHEET": (
        "",
        "URL of an extra stylesheet loaded after kb's own on its pages (http(s) or a path "
        "starting with /); its origin is added to the pages' CSP style-src. Empty: none.",
    ),
}

# Not a server setting: the `kb` lookup commands' default for --url (documented there).
CLIENT_URL_VARIABLE = "KB_URL"


class ConfigError(ValueError):
    """One or more settings are invalid; `problems` maps each bad key to why.

    Its message has one line per bad value, ``KEY: what is wrong``.
    """

    def __init__(self, problems: Mapping[str, str]):
        self.problems = dict(problems)
        super().__init__("\n".join(f"{key}: {why}" for key, why in self.problems.items()))

    @property
    def lines(self) -> list[str]:
        return str(self).splitlines()


# --- validation -------------------------------------------------------------------------------


def _public_url(value: str) -> None:
    if not value:
        return
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username
    ):
        raise ValidationError(
            f"{value!r} is not a base URL (scheme://host[:port][/path], "
            "e.g. https://kb.clinic.example)"
        )


def _http_origin(value: str) -> None:
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
    ):
        raise ValidationError(
            f"{value!r} is not an origin (scheme://host[:port], e.g. https://clinic.example)"
        )
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise ValidationError(f"{value!r} has an invalid port") from None


# A host name or IPv4 address as it may appear in a CSP source: letters, digits, dots and
# hyphens only (nothing that could end the directive, such as ";" or a space).
_HOST_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def _site_link(value: str) -> None:
    """An http(s) URL or a path on kb's own origin ("/static/logo.svg"); empty is allowed.

    The pages' CSP names the origin of a logo or stylesheet URL, so the host is held to
    characters a CSP source may contain.
    """
    if not value:
        return
    example = "e.g. https://clinic.example/logo.svg or /static/logo.svg"
    if any(c.isspace() or ord(c) < 32 or c in '"<>`' for c in value):
        raise ValidationError(f"{value!r} has spaces, quotes or control characters")
    if value.startswith("/") and not value.startswith("//"):
        return
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not _HOST_NAME.match(parts.hostname)
        or parts.username is not None
    ):
        raise ValidationError(
            f"{value!r} is not an http(s) URL or a path starting with / ({example})"
        )
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise ValidationError(f"{value!r} has an invalid port") from None


def _rate_limits(value: str) -> None:
    """Parsed now with the `limits` library flask-limiter uses, not at the first request."""
    if not value.strip():
        return
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ValidationError(
            f"cannot parse {value!r}; expected limits like '20 per second;600 per minute' "
            "(empty: no limit)"
        ) from None


def _rate_limit_storage(value: str) -> None:
    from limits.storage import SCHEMES

    scheme = value.partition("://")[0]
    if "://" not in value or scheme not in SCHEMES:
        known = ", ".join(f"{s}://" for s in ("memory", "redis", "memcached", "mongodb"))
        raise ValidationError(f"{value!r} is not a storage URI (e.g. {known})")


def _existing_file(value: str) -> None:
    if value and not Path(value).is_file():
        raise ValidationError(f"no file {value!r} (empty: the packaged taxonomy)")


class _Resource(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1))
    phone = fields.String(validate=validate.Length(min=1))
    url = fields.Url(schemes={"http", "https"}, require_tld=False)
    sms = fields.String(validate=validate.Length(min=1))
    text = fields.String()

    @validates_schema
    def _has_a_contact(self, data, **kwargs):
        if not any(data.get(key) for key in ("phone", "url", "sms")):
            raise ValidationError("needs at least one of phone, url or sms")


_NOT_EMPTY = validate.Length(min=1, error="must not be empty")


def _count(minimum: int) -> fields.Integer:
    return fields.Integer(
        strict=True,
        validate=validate.Range(min=minimum, error="must be {min} or more, got {input}"),
        error_messages={"invalid": "expected a whole number, got {input!r}"},
    )


class _Settings(Schema):
    """The type and range of every setting; a key's messages name what is wrong."""

    KB_CORPUS_DIR = fields.String(validate=_NOT_EMPTY)
    KB_INDEX_DIR = fields.String(validate=_NOT_EMPTY)
    KB_TAXONOMY = fields.String(validate=_existing_file)
    KB_CORS_ORIGINS = fields.List(fields.String(validate=_http_origin))
    KB_LOG_QUERIES = fields.Boolean(
        error_messages={"invalid": "expected true or false, got {input!r}"}
    )
    KB_PUBLIC_URL = fields.String(validate=_public_url)
    KB_METRICS = fields.Boolean(error_messages={"invalid": "expected true or false, got {input!r}"})
    KB_RATE_LIMIT = fields.String(validate=_rate_limits)
    KB_RATE_LIMIT_STORAGE = fields.String(validate=_rate_limit_storage)
    KB_PROXY_COUNT = _count(minimum=0)
    KB_MAX_URL_LENGTH = _count(minimum=1)
    KB_MAX_BODY_BYTES = _count(minimum=1)
    KB_CRISIS_TITLE = fields.String(validate=_NOT_EMPTY)
    KB_CRISIS_MESSAGE = fields.String(validate=_NOT_EMPTY)
    KB_CRISIS_RESOURCES = fields.List(fields.Nested(_Resource))
    KB_SITE_NAME = fields.String(validate=_NOT_EMPTY)
    KB_SITE_URL = fields.String(validate=_site_link)
    KB_SITE_LOGO = fields.String(validate=_site_link)
    KB_SITE_STYLESHEET = fields.String(validate=_site_link)


def _flatten(messages: object, path: str = "") -> Iterator[str]:
    """marshmallow's nested messages as `[0].name: message` parts."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                yield from _flatten(value, path)
            else:
                step = f"[{key}]" if isinstance(key, int) else f".{key}" if path else str(key)
                yield from _flatten(value, path + step)
    elif isinstance(messages, list):
        for value in messages:
            yield from _flatten(value, path)
    else:
        text = str(messages).rstrip(".")
        yield f"{path}: {text}" if path else text


def _check(values: Mapping[str, object]) -> dict[str, object]:
    """Validate the KB_* keys of `values` (other keys pass through); ConfigError if bad."""
    known = {key: value for key, value in values.items() if key in SETTINGS}
    if not known:
        return dict(values)
    try:
        checked = _Settings(only=tuple(known)).load(known)
    except ValidationError as exc:
        raise ConfigError(
            {key: "; ".join(_flatten(exc.messages[key])) for key in SETTINGS if key in exc.messages}
        ) from None
    return {**values, **checked}


# --- loading ----------------------------------------------------------------------------------


def defaults() -> dict[str, object]:
    return {key: value for key, (value, _doc) in SETTINGS.items()}


def _decode(raw: str, default: object) -> object:
    """Environment values are strings; JSON-decode those whose default is not a string.

    A number or boolean that is not JSON ("yes") is left to the schema to accept or name.
    """
    if isinstance(default, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        if isinstance(default, list):
            raise ValueError(f"expected a JSON list, got {raw!r}") from None
        return raw


def _read_environment(environ: Mapping[str, str] | None) -> tuple[dict, dict[str, str]]:
    """The KB_* settings set in `environ` (default: the process environment), decoded, and
    the problems of those that cannot be."""
    environ = os.environ if environ is None else environ
    settings, problems = {}, {}
    for key, (default, _doc) in SETTINGS.items():
        if key in environ:
            try:
                settings[key] = _decode(environ[key], default)
            except ValueError as exc:
                problems[key] = str(exc)
    return settings, problems


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """The KB_* settings set in `environ` (default: the process environment), decoded."""
    settings, problems = _read_environment(environ)
    if problems:
        raise ConfigError(problems)
    return settings


def validate_settings(values: Mapping[str, object]) -> dict[str, object]:
    """Every setting from `values`, else its default, checked; raises ConfigError.

    Keys that are not KB_* settings (Flask's own, e.g. TESTING) pass through unchecked.
    """
    return _check({**defaults(), **values})


def load_settings(
    overrides: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, object]:
    """Defaults, then KB_* environment variables, then `overrides`; all checked.

    Raises ConfigError naming every bad value, one per line, whichever source it came from.
    """
    overrides = overrides or {}
    from_env, problems = _read_environment(environ)
    problems = {key: why for key, why in problems.items() if key not in overrides}
    values = {**defaults(), **from_env, **overrides}
    try:
        checked = _check({k: v for k, v in values.items() if k not in problems})
    except ConfigError as exc:
        problems.update(exc.problems)
    if problems:
        raise ConfigError({key: problems[key] for key in SETTINGS if key in problems})
    return checked


def setting(key: str, environ: Mapping[str, str] | None = None) -> object:
    """One setting (default, else the environment), checked on its own; ConfigError if bad.

    For a command that needs only this value: other settings, even bad ones, do not stop it.
    """
    environ = os.environ if environ is None else environ
    default = SETTINGS[key][0]
    if key not in environ:
        return default
    try:
        value = _decode(environ[key], default)
    except ValueError as exc:
        raise ConfigError({key: str(exc)}) from None
    return _check({key: value})[key]


def taxonomy_path(settings: Mapping[str, object]) -> Path | None:
    """The taxonomy file KB_TAXONOMY names, or None for the packaged one.

    For kb.taxonomy.load_taxonomy(taxonomy_path(settings)).
    """
    value = settings.get("KB_TAXONOMY") or ""
    return Path(str(value)) if value else None


def client_url(environ: Mapping[str, str] | None = None) -> str | None:
    """KB_URL: the kb server the `kb` lookup commands ask by default (None: the local index)."""
    environ = os.environ if environ is None else environ
    return environ.get(CLIENT_URL_VARIABLE) or None


def metrics_multiprocess_dir(environ: Mapping[str, str] | None = None) -> str | None:
    """PROMETHEUS_MULTIPROC_DIR: where prometheus-client's worker processes share counts
    (set by gunicorn.conf.py when KB_METRICS is on); None for a single process."""
    environ = os.environ if environ is None else environ
    return environ.get("PROMETHEUS_MULTIPROC_DIR") or None
