"""The API reference page (/api/v1/docs), rendered on the server from the OpenAPI document.

Why not a renderer such as Redoc, Scalar or Swagger UI: kb's pages are served with
`script-src 'self'; style-src 'self'` and no inline styles, while those renderers style
themselves by injecting `<style>` elements (Redoc and Scalar through CSS-in-JS), need a
megabyte or more of vendored JavaScript, and show nothing without it. The document kb
serves is small and fixed per app, so kb renders it itself: one HTML page, no JavaScript,
one stylesheet (kb/static/kb-docs.css), readable at 360 px and by a screen reader.

`docs_context(spec)` turns the document (`spec.to_dict()`) into what the template
(kb/templates/api_docs.html) shows: operations grouped by tag, their parameters,
responses with headers and fields, the examples the document holds (kb.api.openapi), the
error shape once, and the schemas that responses share. Every description is Markdown,
rendered with kb's one Markdown parser and sanitized with kb's nh3 allowlist
(kb.api.render), like the section HTML the API serves.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from http import HTTPStatus

from markupsafe import Markup, escape

from kb.api.render import sanitize_html
from kb.markdown import parser, to_html

METHODS = ("get", "put", "post", "patch", "delete")
SCHEMA_REF = "#/components/schemas/"
RESPONSE_REF = "#/components/responses/"
HEADER_REF = "#/components/headers/"
# Rendered in the Errors section, once, rather than among the shared schemas.
ERROR_SCHEMAS = ("Error", "ErrorDetail")


@dataclass
class Field:
    """A parameter, a header or a schema property, as the page lists it."""

    name: str
    type: Markup
    description: Markup = Markup("")
    required: bool = False  # a parameter that must be sent
    optional: bool = False  # a property that may be absent from a body
    location: str = ""  # where a parameter goes: path or query
    limits: list[Markup] = field(default_factory=list)


@dataclass
class Response:
    status: str
    reason: str
    description: Markup
    headers: list[Field]
    body: Markup | None  # the type of the body: a schema name, linked when it is shared
    fields: list[Field]  # the body's properties, shown with a 200
    error: bool = False  # the body is an Error (documented once, in the Errors section)


@dataclass
class Operation:
    id: str
    method: str
    path: str
    summary: Markup
    description: Markup
    parameters: list[Field]
    responses: list[Response]
    curl: str | None
    example: str | None  # the 200 body of the curl line, as JSON text


@dataclass
class Group:
    id: str
    name: str
    description: Markup
    operations: list[Operation]


@dataclass
class SchemaDoc:
    id: str
    name: str
    description: Markup
    fields: list[Field]


class _Renderer:
    def __init__(self, spec: dict):
        self.spec = spec
        self.schemas: dict = spec.get("components", {}).get("schemas", {})
        self.responses: dict = spec.get("components", {}).get("responses", {})
        self.headers: dict = spec.get("components", {}).get("headers", {})
        ids = sorted(
            (op["operationId"] for _, _, op in operations(spec) if "operationId" in op),
            key=len,
            reverse=True,
        )
        # A bare operationId in a description becomes a link to that operation.
        alternatives = "|".join(map(re.escape, ids))
        self._op_ids = re.compile(rf"(?<![\w`#\[/])({alternatives})(?![\w`])") if ids else None
        self.shared: list[str] = []  # schema names the page lists in its Schemas section

    # -- text -------------------------------------------------------------------------------

    def markdown(self, text: str | None) -> Markup:
        if not text:
            return Markup("")
        return Markup(sanitize_html(to_html(self._link_operations(text))))

    def inline(self, text: str | None) -> Markup:
        if not text:
            return Markup("")
        html = parser().renderInline(self._link_operations(" ".join(text.split())))
        return Markup(sanitize_html(html))

    def _link_operations(self, text: str) -> str:
        if self._op_ids is None:
            return text
        return self._op_ids.sub(r"[\1](#\1)", text)

    # -- schemas ----------------------------------------------------------------------------

    def schema_link(self, name: str) -> Markup:
        return Markup('<a href="#schema-{0}">{0}</a>').format(name)

    def type_of(self, schema: dict) -> Markup:
        """`string`, `integer`, `array of Hit` (linked), `string (date) or null`..."""
        # apispec writes a $ref with a description of its own as allOf: [$ref].
        for combined in ("allOf", "oneOf", "anyOf"):
            if len(schema.get(combined, ())) == 1:
                schema = {**schema, **schema[combined][0]}
        if "$ref" in schema:
            name = schema["$ref"].removeprefix(SCHEMA_REF)
            self._share(name)
            label = self.schema_link(name)
        elif schema.get("type") == "array":
            label = Markup("array of ") + self.type_of(schema.get("items", {}))
        else:
            label = escape(schema.get("type", "any"))
            if schema.get("format"):
                label += Markup(" ({})").format(schema["format"])
        if schema.get("nullable"):
            label += Markup(" or null")
        return label

    def limits(self, schema: dict) -> list[Markup]:
        """What a value may be, in words: its default, range, length, pattern and choices."""
        found = []
        code = Markup("<code>{}</code>")
        if "default" in schema:
            found.append(Markup("default ") + code.format(_plain(schema["default"])))
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            found.append(Markup("from {} to {}").format(low, high))
        elif low is not None:
            found.append(Markup("at least {}").format(low))
        elif high is not None:
            found.append(Markup("at most {}").format(high))
        short, long = schema.get("minLength"), schema.get("maxLength")
        if short is not None and long is not None:
            found.append(Markup("{} to {} characters").format(short, long))
        elif long is not None:
            found.append(Markup("at most {} characters").format(long))
        elif short is not None:
            found.append(Markup("at least {} character{}").format(short, "" if short == 1 else "s"))
        if schema.get("pattern"):
            found.append(Markup("matches ") + code.format(schema["pattern"]))
        if schema.get("enum"):
            choices = Markup(", ").join(code.format(_plain(v)) for v in schema["enum"])
            found.append(Markup("one of ") + choices)
        return found

    def fields_of(self, name: str) -> list[Field]:
        schema = self.schemas.get(name, {})
        required = set(schema.get("required", ()))
        return [
            Field(
                name=prop,
                type=self.type_of(sub),
                description=self.inline(sub.get("description")),
                optional=prop not in required,
                limits=self.limits(sub),
            )
            for prop, sub in schema.get("properties", {}).items()
        ]

    def _share(self, name: str) -> None:
        if name not in self.shared and name not in ERROR_SCHEMAS:
            self.shared.append(name)

    # -- operations ---------------------------------------------------------------------------

    def parameter(self, param: dict) -> Field:
        schema = param.get("schema", {})
        return Field(
            name=param["name"],
            location=param.get("in", ""),
            type=self.type_of(schema),
            description=self.inline(param.get("description")),
            required=bool(param.get("required")),
            limits=self.limits(schema),
        )

    def response(self, status: str, response: dict) -> Response:
        if "$ref" in response:
            response = self.responses.get(response["$ref"].removeprefix(RESPONSE_REF), {})
        resolved = {
            name: self.headers.get(h["$ref"].removeprefix(HEADER_REF), {}) if "$ref" in h else h
            for name, h in response.get("headers", {}).items()
        }
        headers = [
            Field(
                name=name,
                type=self.type_of(header.get("schema", {})),
                description=self.inline(header.get("description")),
                limits=[Markup("for example <code>{}</code>").format(header["example"])]
                if "example" in header
                and f"`{header['example']}`" not in header.get("description", "")
                else [],
            )
            for name, header in resolved.items()
        ]
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        body, fields = None, []
        if schema and "$ref" in schema and status.startswith("2"):
            name = schema["$ref"].removeprefix(SCHEMA_REF)
            body, fields = Markup("{}").format(name), self.fields_of(name)
        elif schema:
            body = self.type_of(schema)
        error = bool(schema) and schema.get("$ref") == SCHEMA_REF + "Error"
        return Response(
            status=status,
            reason=_reason(status),
            description=self.inline(response.get("description")),
            headers=headers,
            body=body,
            fields=fields,
            error=error,
        )

    def operation(self, path: str, method: str, op: dict, path_params: list) -> Operation:
        ok = op.get("responses", {}).get("200", {})
        example = ok.get("content", {}).get("application/json", {}).get("example")
        samples = [s for s in op.get("x-codeSamples", ()) if s.get("label") == "curl"]
        own = {(p["name"], p.get("in")) for p in op.get("parameters", ())}
        params = [p for p in path_params if (p["name"], p.get("in")) not in own]
        params += op.get("parameters", [])
        params.sort(key=lambda p: p.get("in") != "path")  # path parameters first
        return Operation(
            id=op["operationId"],
            method=method.upper(),
            path=path,
            summary=self.inline(op.get("summary")),
            description=self.markdown(op.get("description")),
            parameters=[self.parameter(p) for p in params],
            responses=[
                self.response(status, r)
                for status, r in sorted(op.get("responses", {}).items(), key=_status_order)
            ],
            curl=samples[0]["source"] if samples else None,
            example=_json(example) if example is not None else None,
        )


def operations(spec: dict):
    """(path, method, operation) for every operation of the document, in its order."""
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def app_docs_context(app) -> dict:
    """docs_context of `app`'s OpenAPI document, made once per app: the document is
    complete when the app is created (kb.api.create_app) and does not change after."""
    context = app.extensions.get("kb-api-docs")
    if context is None:
        spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
        context = app.extensions["kb-api-docs"] = docs_context(spec)
    return context


def docs_context(spec: dict) -> dict:
    """Everything api_docs.html shows, from the OpenAPI document `spec` (a dict)."""
    renderer = _Renderer(spec)
    tags = {t["name"]: t.get("description", "") for t in spec.get("tags", ())}
    grouped: dict[str, list[Operation]] = {}
    for path, method, op in operations(spec):
        tag = (op.get("tags") or ["Other"])[0]
        path_params = spec["paths"][path].get("parameters", [])
        grouped.setdefault(tag, []).append(renderer.operation(path, method, op, path_params))
    order = list(tags) + [t for t in grouped if t not in tags]
    groups = [
        Group(
            id="tag-" + _slug(name),
            name=name,
            description=renderer.inline(tags.get(name)),
            operations=grouped[name],
        )
        for name in order
        if name in grouped
    ]
    error = renderer.schemas.get("Error", {})
    error_fields = {name: renderer.fields_of(name) for name in ERROR_SCHEMAS}
    # Shared schemas: every one a listed field refers to, and the ones those refer to.
    i = 0
    while i < len(renderer.shared):
        renderer.fields_of(renderer.shared[i])
        i += 1
    names = [n for n in renderer.schemas if n in renderer.shared]
    schemas = [
        SchemaDoc(
            id="schema-" + name,
            name=name,
            description=renderer.markdown(renderer.schemas[name].get("description")),
            fields=renderer.fields_of(name),
        )
        for name in names
    ]
    info = spec.get("info", {})
    return {
        "title": info.get("title", "API"),
        "version": info.get("version", ""),
        "openapi": spec.get("openapi", ""),
        "description": renderer.markdown(info.get("description")),
        "groups": groups,
        "error": {
            "description": renderer.markdown(error.get("description")),
            "fields": error_fields,
            "curl": error.get("x-example-request"),
            "example": _json(error["example"]) if "example" in error else None,
        },
        "schemas": schemas,
    }


def _json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _plain(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _reason(status: str) -> str:
    if status == "default":
        return "Any other error"
    try:
        return HTTPStatus(int(status)).phrase
    except ValueError:
        return ""


def _status_order(item) -> tuple:
    status = item[0]
    return (1, 0) if not status.isdigit() else (0, int(status))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
