"""What every operation of the OpenAPI document says beyond its view: an operationId, a tag,
the answers any route can give (304, 429 rate limited, 503 no index) with their headers,
the 200's cache headers, and a real example: a curl line and the body it gets.

flask-smorest documents each view from its decorators; the rate limiter, the index check
and the cache headers apply to every route, so they are added here, once, after the
blueprint is registered (`complete_operations`). The docs page (kb.api.docs_page) is
rendered from the finished document, so openapi.json and the page say the same.

The examples (EXAMPLES, ERROR_EXAMPLE) are the shipped corpus's real answers, copied from
the API. They cannot be generated when the document is built: an app may be created before
any index exists, and it serves a clinic's own corpus, not the shipped one. So
tests/test_docs_page.py holds them to the truth instead: each validates against its response
schema, and the live API on the shipped corpus answers its request with the same fields at
every level (and the Cache-Control the document names).
"""

from __future__ import annotations

import copy
import re

from kb.api.hardening import PRIVATE_CACHE, PUBLIC_CACHE

# Where `kb serve` listens by default; the curl lines and the URLs in examples use it.
EXAMPLE_BASE_URL = "http://127.0.0.1:5000"

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


# Headers and answers every operation shares, written once under `components`.
CACHE_CONTROL = {  # header component: (value, why), as kb.api.hardening sets it
    "CacheControlPublic": (
        PUBLIC_CACHE,
        "a public document: browsers and shared caches may keep it for five minutes, then "
        "revalidate it with the `ETag`.",
    ),
    "CacheControlPrivate": (
        PRIVATE_CACHE,
        "the URL holds what someone typed, so no browser or proxy may store the answer.",
    ),
    "CacheControlReadiness": (PRIVATE_CACHE, "readiness is asked afresh every time."),
}
HEADERS = {
    "RetryAfter": {
        "description": "Seconds to wait before asking again (at least 1).",
        "schema": {"type": "integer", "minimum": 1},
    },
    "ETag": {
        "description": "Names the index build and the URL (and the coding when compressed); "
        "send it back in `If-None-Match` to get a 304.",
        "schema": {"type": "string"},
        "example": '"3f76b95968b52b9512c0f4f7c5015b33"',
    },
    **{
        name: {
            "description": f"Always `{value}`: {why}",
            "schema": {"type": "string"},
            "example": value,
        }
        for name, (value, why) in CACHE_CONTROL.items()
    },
}
RETRY_AFTER = {"Retry-After": ref("headers", "RetryAfter")}
RESPONSES = {
    "TOO_MANY_REQUESTS": {
        "description": "Too many requests from this client (the server's `KB_RATE_LIMIT`): "
        "code `rate_limited`. Ask again after `Retry-After` seconds.",
        "headers": RETRY_AFTER,
        "content": ERROR,
    },
    "SERVICE_UNAVAILABLE": {
        "description": "No usable index build (code `index_unavailable`): none built yet, "
        "or its files went away. Ask again after `Retry-After` seconds, or run `kb build`.",
        "headers": RETRY_AFTER,
        "content": ERROR,
    },
    "NOT_MODIFIED": {
        "description": "Not modified: `If-None-Match` named this answer's `ETag` (same "
        "index build, same URL). No body; use the copy you have.",
        "headers": {"ETag": ref("headers", "ETag")},
    },
}
# What a path parameter is, and where to find valid values.
PATH_PARAMETERS = {
    "section_id": "Section id, `<article slug>:<anchor>`: a search hit's `id`.",
    "slug": "Article slug, as in getArticles.",
    "topic_id": "Topic id, as in getTopics.",
}
# Any route can answer these (the rate limiter, the index check): status -> response.
COMMON_RESPONSES = {"429": "TOO_MANY_REQUESTS", "503": "SERVICE_UNAVAILABLE"}
# Search and suggest URLs hold what someone typed about their health (kb.api.hardening).
PRIVATE_OPERATIONS = {"getSearch", "getSuggest"}
# Readiness is asked afresh every time: no ETag, never cached (kb.api.hardening).
UNCACHED_OPERATIONS = {"getHealth"}


def cache_control(operation_id: str) -> str:
    """The header component of the 200's Cache-Control for this operation."""
    if operation_id in UNCACHED_OPERATIONS:
        return "CacheControlReadiness"
    if operation_id in PRIVATE_OPERATIONS:
        return "CacheControlPrivate"
    return "CacheControlPublic"


# Operations grouped for readers, by the first part of their path after /api/v1.
TAGS = [
    (
        "Search",
        "Find sections by what people type, and complete it as they type.",
        ("search", "suggest"),
    ),
    ("Sections", "Read one section, and find the sections most like it.", ("sections",)),
    ("Articles", "The articles, each with its table of contents.", ("articles",)),
    ("Topics", "The topic taxonomy and the sections of each topic.", ("topics",)),
    ("Service", "Whether this kb can answer.", ("health",)),
]

# Every `code` an error body can carry: (HTTP status, what it means).
ERROR_CODES = {
    "bad_request": (400, "The request is malformed, e.g. a query string that is not UTF-8."),
    "not_found": (404, "No such route."),
    "section_not_found": (404, "No section has this id; find ids with /api/v1/search."),
    "article_not_found": (404, "No article has this slug (also for search's `article`)."),
    "topic_not_found": (404, "No topic has this id; list them with /api/v1/topics."),
    "method_not_allowed": (405, "Only GET, HEAD and OPTIONS are answered; `Allow` says so."),
    "not_acceptable": (406, "The client accepts no type kb can send."),
    "request_too_large": (413, "The request body is over `KB_MAX_BODY_BYTES`."),
    "uri_too_long": (414, "The URL is over `KB_MAX_URL_LENGTH` characters."),
    "unsupported_media_type": (415, "A body of a type kb does not read."),
    "invalid_parameter": (422, "A parameter is invalid; `details` says which and why."),
    "rate_limited": (429, "Too many requests from this client; see `Retry-After`."),
    "headers_too_large": (431, "The request headers are too large."),
    "internal_error": (500, "A bug in kb; the server logged it."),
    "index_unavailable": (503, "No usable index build; see `Retry-After`, or run `kb build`."),
    "unavailable": (503, "kb cannot answer for now."),
}

ERROR_DESCRIPTION = (
    "The one error body of every route and every failure: `error.code` is stable and "
    "machine-readable, `error.message` is for people and may change, `error.details` is "
    "`{}` except for `invalid_parameter`, where it holds the messages per location and "
    "parameter. The codes:\n\n"
    + "\n".join(f"- `{code}` ({status}): {text}" for code, (status, text) in ERROR_CODES.items())
)

UNPROCESSABLE = (
    "A query parameter is invalid (code `invalid_parameter`): `error.details.query` holds "
    "the messages for each parameter."
)
DEFAULT_ERROR = (
    "Any other error (400, 404 for an unknown route, 405, 413, 414, 431, 500), in the same "
    "Error shape."
)


def operation_id(method: str, path: str) -> str:
    """A stable operationId from the route: GET /api/v1/sections/{section_id}/related ->
    getSectionsRelated; a path ending in a parameter names one thing (getSection)."""
    parts = [p for p in path.split("/") if p and p not in ("api", "v1")]
    words = [p for p in parts if not p.startswith("{")]
    if parts and parts[-1].startswith("{") and words:
        words[-1] = re.sub(r"s$", "", words[-1])  # /articles/{slug}: one article
    name = "".join(w[:1].upper() + w[1:] for w in re.split(r"[-_.]", "-".join(words)) if w)
    return method.lower() + (name or "Root")


def tag_of(path: str) -> str | None:
    parts = [p for p in path.split("/") if p and p not in ("api", "v1")]
    for name, _, prefixes in TAGS:
        if parts and parts[0] in prefixes:
            return name
    return None


def curl(request: str) -> str:
    return f"curl '{EXAMPLE_BASE_URL}{request}'"


def complete_operations(spec) -> None:
    """Add operationIds, tags, 304/429/503, the 200's cache headers and examples to every
    operation, and the error codes and a better wording to the shared error answers."""
    used_tags = set()
    for path, operations in spec._paths.items():
        for param in operations.get("parameters", ()):
            if param.get("in") == "path" and param.get("name") in PATH_PARAMETERS:
                param.setdefault("description", PATH_PARAMETERS[param["name"]])
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            op_id = operation.setdefault("operationId", operation_id(method, path))
            tag = tag_of(path)
            if tag:
                operation["tags"] = [tag]
            used_tags.update(operation.get("tags", ()))
            responses = operation.setdefault("responses", {})
            for status, name in COMMON_RESPONSES.items():
                if isinstance(responses.get(status), dict) and "$ref" not in responses[status]:
                    responses[status].setdefault("headers", {}).update(RETRY_AFTER)
                responses.setdefault(status, ref("responses", name))
            ok = responses.get("200")
            if isinstance(ok, dict) and "$ref" not in ok:
                headers = ok.setdefault("headers", {})
                if op_id not in UNCACHED_OPERATIONS:
                    headers["ETag"] = ref("headers", "ETag")
                    responses.setdefault("304", ref("responses", "NOT_MODIFIED"))
                headers["Cache-Control"] = ref("headers", cache_control(op_id))
                example = EXAMPLES.get(op_id)
                if example and "application/json" in ok.get("content", {}):
                    ok["content"]["application/json"]["example"] = example["response"]
                    operation["x-codeSamples"] = [
                        {"lang": "Shell", "label": "curl", "source": curl(example["request"])}
                    ]
    _complete_components(spec, used_tags)


def _complete_components(spec, used_tags: set[str]) -> None:
    spec._tags[:] = [t for t in spec._tags if t["name"] in used_tags]
    known = {t["name"] for t in spec._tags}
    spec._tags.extend(
        {"name": name, "description": text}
        for name, text, _ in TAGS
        if name in used_tags and name not in known
    )
    components = spec.components
    components.headers.update(copy.deepcopy(HEADERS))
    components.responses.update(copy.deepcopy(RESPONSES))
    for responses in (components.responses, components.responses_lazy):
        if "UNPROCESSABLE_ENTITY" in responses:
            responses["UNPROCESSABLE_ENTITY"]["description"] = UNPROCESSABLE
        if "DEFAULT_ERROR" in responses:
            responses["DEFAULT_ERROR"]["description"] = DEFAULT_ERROR
    error = components.schemas.get("Error")
    if error is not None:
        error["description"] = ERROR_DESCRIPTION
        error["example"] = ERROR_EXAMPLE["response"]
        error["x-example-request"] = curl(ERROR_EXAMPLE["request"])


# -- examples: real answers on the shipped corpus (see the module docstring) -------------------

# One article as the API lists it: the second of getArticles and the head of getArticle.
PD_ARTICLE = {
    "slug": "psychotherapy-for-personality-disorders",
    "title": "Effective psychotherapeutic approaches "
    "for treating personality disorders and "
    "improving interpersonal functioning",
    "summary": "This evergreen article surveys "
    "evidence-based therapies for "
    "personality disorders, highlighting "
    "practical strategies to improve "
    "relationships, regulate emotions, and "
    "foster healthier, more collaborative "
    "social functioning across diverse "
    "clinical contexts.",
    "source": "004_62bccea0c903684b.txt",
    "published": "2025-08-08",
    "url": "http://127.0.0.1:5000/articles/psychotherapy-for-personality-disorders",
    "section_count": 5,
    "topics": [
        "co-occurring",
        "cultural-sensitivity",
        "dbt",
        "distress-tolerance",
        "emotion-regulation",
        "interpersonal-effectiveness",
        "mindfulness",
        "progress-relapse",
        "psychodynamic",
        "psychoeducation",
        "telehealth",
        "therapeutic-relationship",
        "trauma-focused",
    ],
    "reviewed": None,
    "next_review": None,
    "reviewed_by": None,
    "authors": [],
    "audience": [],
    "tags": [],
}


EXAMPLES = {
    "getSearch": {
        "request": "/api/v1/search?q=mentalization&limit=1",
        "response": {
            "query": "mentalization",
            "total": 1,
            "limit": 1,
            "offset": 0,
            "hits": [
                {
                    "id": "bpd-treatment-in-real-sessions:other-therapies-can-fit-different-"
                    "patterns",
                    "article": "bpd-treatment-in-real-sessions",
                    "article_title": "How I Think About Borderline "
                    "Personality Disorder Treatment in "
                    "Real Sessions",
                    "title": "Other Therapies Can Fit Different Patterns",
                    "anchor": "other-therapies-can-fit-different-patterns",
                    "breadcrumb": ["Other Therapies Can Fit Different Patterns"],
                    "snippet": "DBT is not the only serious treatment I "
                    "consider. <mark>Mentalization-Based</mark> "
                    "<mark>Therapy</mark>, Schema Therapy, "
                    "Transference-Focused Psychotherapy",
                    "score": 11.5758,
                    "topics": [
                        "mentalization",
                        "medication",
                        "trauma-focused",
                        "self-harm",
                        "crisis-safety",
                        "co-occurring",
                        "dbt",
                        "schema-therapy",
                        "tfp",
                    ],
                    "url": "http://127.0.0.1:5000/articles/bpd-treatment-in-real-"
                    "sessions#other-therapies-can-fit-different-patterns",
                }
            ],
            "facets": {
                "topics": [
                    {"value": "co-occurring", "label": "Co-occurring conditions", "count": 1},
                    {"value": "crisis-safety", "label": "Crisis and safety planning", "count": 1},
                    {"value": "dbt", "label": "Dialectical behavior therapy", "count": 1},
                    {"value": "medication", "label": "Medication", "count": 1},
                    {"value": "mentalization", "label": "Mentalization-based therapy", "count": 1},
                    {"value": "schema-therapy", "label": "Schema therapy", "count": 1},
                    {"value": "self-harm", "label": "Self-harm", "count": 1},
                    {"value": "tfp", "label": "Transference-focused psychotherapy", "count": 1},
                    {"value": "trauma-focused", "label": "Trauma-focused work", "count": 1},
                ],
                "articles": [
                    {
                        "value": "bpd-treatment-in-real-sessions",
                        "label": "How I Think About Borderline "
                        "Personality Disorder Treatment "
                        "in Real Sessions",
                        "count": 1,
                    }
                ],
            },
            "did_you_mean": None,
            "corrected": False,
            "notices": [],
            "interpretation": {
                "corrections": [],
                "expansions": [
                    {"typed": "mentalization", "term": "Mentalization-based therapy"},
                    {"typed": "mentalization", "term": "understanding other people"},
                    {"typed": "mentalization", "term": "reading other people"},
                ],
                "ignored": [],
                "dropped": [],
            },
        },
    },
    "getSection": {
        "request": "/api/v1/sections/bpd-treatment-in-real-sessions:introduction",
        "response": {
            "id": "bpd-treatment-in-real-sessions:introduction",
            "article": "bpd-treatment-in-real-sessions",
            "article_title": "How I Think About Borderline Personality "
            "Disorder Treatment in Real Sessions",
            "title": "How I Think About Borderline Personality Disorder Treatment in Real Sessions",
            "anchor": "introduction",
            "level": 1,
            "breadcrumb": [
                "How I Think About Borderline Personality Disorder Treatment in Real Sessions"
            ],
            "position": 0,
            "topics": ["crisis-safety", "dbt", "therapeutic-relationship", "psychoeducation"],
            "word_count": 71,
            "reading_grade": 11.4,
            "reviewed": None,
            "next_review": None,
            "text": "I work as a therapist in a small outpatient clinic "
            "where I have co-led DBT skills groups, sat with clients "
            "after emergency room visits, and helped families "
            "understand what treatment can and cannot do. Borderline "
            "personality disorder treatment is rarely one clean "
            "path, at least from what I see in my office. I think of "
            "it as steady repair work, with skills, relationship "
            "practice, safety planning, and a lot of patience.",
            "html": "<p>I work as a therapist in a small outpatient clinic "
            "where I have co-led DBT skills groups, sat with clients "
            "after emergency room visits, and helped families "
            "understand what treatment can and cannot do. Borderline "
            "personality disorder treatment is rarely one clean "
            "path, at least from what I see in my office. I think of "
            "it as steady repair work, with skills, relationship "
            "practice, safety planning, and a lot of patience.</p>\n",
            "url": "http://127.0.0.1:5000/articles/bpd-treatment-in-real-sessions#introduction",
            "previous": None,
            "next": "bpd-treatment-in-real-sessions:why-the-treatment-relationship-carries-so-"
            "much-weight",
            "related": [
                "psychotherapy-for-personality-disorders:outcomes-and-ongoing-practice-"
                "cultivate-healthier-interdependent-lives",
                "bpd-treatment-in-real-sessions:family-involvement-can-help-if-it-does-not-"
                "become-blame",
                "bpd-treatment-in-real-sessions:progress-usually-looks-messier-than-people-expect",
                "bpd-treatment-in-real-sessions:other-therapies-can-fit-different-patterns",
            ],
        },
    },
    "getSectionsRelated": {
        "request": "/api/v1/sections/bpd-treatment-in-real-sessions:introduction/related?limit=2",
        "response": {
            "section": "bpd-treatment-in-real-sessions:introduction",
            "related": [
                {
                    "id": "psychotherapy-for-personality-disorders:outcomes-and-ongoing-"
                    "practice-cultivate-healthier-interdependent-lives",
                    "article": "psychotherapy-for-personality-disorders",
                    "title": "Cultural sensitivity, "
                    "individualized pacing and ongoing "
                    "practice support lasting change",
                    "anchor": "outcomes-and-ongoing-practice-cultivate-healthier-"
                    "interdependent-lives",
                    "level": 2,
                },
                {
                    "id": "bpd-treatment-in-real-sessions:family-involvement-can-help-if-it-"
                    "does-not-become-blame",
                    "article": "bpd-treatment-in-real-sessions",
                    "title": "Family Involvement Can Help, If It Does Not Become Blame",
                    "anchor": "family-involvement-can-help-if-it-does-not-become-blame",
                    "level": 2,
                },
            ],
        },
    },
    "getArticles": {
        "request": "/api/v1/articles",
        "response": {
            "articles": [
                {
                    "slug": "bpd-treatment-in-real-sessions",
                    "title": "How I Think About Borderline "
                    "Personality Disorder Treatment in Real "
                    "Sessions",
                    "summary": "I work as a therapist in a small "
                    "outpatient clinic where I have co-led "
                    "DBT skills groups, sat with clients "
                    "after emergency room visits, and "
                    "helped families understand what "
                    "treatment can and cannot do.",
                    "source": "000_83ceb8d948c4f91d.txt",
                    "published": None,
                    "url": "http://127.0.0.1:5000/articles/bpd-treatment-in-real-sessions",
                    "section_count": 6,
                    "topics": [
                        "co-occurring",
                        "crisis-safety",
                        "dbt",
                        "distress-tolerance",
                        "emotion-regulation",
                        "family-involvement",
                        "interpersonal-effectiveness",
                        "medication",
                        "mentalization",
                        "mindfulness",
                        "progress-relapse",
                        "psychoeducation",
                        "schema-therapy",
                        "self-harm",
                        "tfp",
                        "therapeutic-relationship",
                        "trauma-focused",
                    ],
                    "reviewed": None,
                    "next_review": None,
                    "reviewed_by": None,
                    "authors": [],
                    "audience": [],
                    "tags": [],
                },
                PD_ARTICLE,
            ]
        },
    },
    "getArticle": {
        "request": "/api/v1/articles/psychotherapy-for-personality-disorders",
        "response": {
            **PD_ARTICLE,
            "toc": [
                {
                    "id": "psychotherapy-for-personality-disorders:introduction",
                    "article": "psychotherapy-for-personality-disorders",
                    "title": "Effective psychotherapeutic approaches for "
                    "treating personality disorders and improving "
                    "interpersonal functioning",
                    "anchor": "introduction",
                    "level": 1,
                },
                {
                    "id": "psychotherapy-for-personality-disorders:integrating-psychodynamic-"
                    "insight-with-concrete-skills-yields-synergy",
                    "article": "psychotherapy-for-personality-disorders",
                    "title": "Skills training and cognitive work build new ways of responding",
                    "anchor": "integrating-psychodynamic-insight-with-concrete-skills-yields-"
                    "synergy",
                    "level": 2,
                },
                {
                    "id": "psychotherapy-for-personality-disorders:telehealth-and-in-person-"
                    "care-expand-access-to-transformative-therapy",
                    "article": "psychotherapy-for-personality-disorders",
                    "title": "Integrating psychodynamic insight with "
                    "concrete skills yields synergy",
                    "anchor": "telehealth-and-in-person-care-expand-access-to-transformative-"
                    "therapy",
                    "level": 2,
                },
                {
                    "id": "psychotherapy-for-personality-disorders:cultural-sensitivity-and-"
                    "individualized-pacing-support-lasting-change",
                    "article": "psychotherapy-for-personality-disorders",
                    "title": "Telehealth and in-person care expand access "
                    "to transformative therapy",
                    "anchor": "cultural-sensitivity-and-individualized-pacing-support-lasting-"
                    "change",
                    "level": 2,
                },
                {
                    "id": "psychotherapy-for-personality-disorders:outcomes-and-ongoing-"
                    "practice-cultivate-healthier-interdependent-lives",
                    "article": "psychotherapy-for-personality-disorders",
                    "title": "Cultural sensitivity, individualized pacing "
                    "and ongoing practice support lasting change",
                    "anchor": "outcomes-and-ongoing-practice-cultivate-healthier-"
                    "interdependent-lives",
                    "level": 2,
                },
            ],
        },
    },
    "getTopics": {
        "request": "/api/v1/topics",
        "response": {
            "topics": [
                {
                    "id": "mentalization",
                    "label": "Mentalization-based therapy",
                    "parent": None,
                    "abbreviations": ["MBT"],
                    "synonyms": [],
                    "section_count": 1,
                },
                {
                    "id": "medication",
                    "label": "Medication",
                    "parent": None,
                    "abbreviations": [],
                    "synonyms": ["meds", "pills", "drugs", "medicine", "prescription", "tablets"],
                    "section_count": 1,
                },
                {
                    "id": "dbt",
                    "label": "Dialectical behavior therapy",
                    "parent": None,
                    "abbreviations": ["DBT"],
                    "synonyms": [],
                    "section_count": 5,
                },
                {
                    "id": "mindfulness",
                    "label": "Mindfulness",
                    "parent": "dbt",
                    "abbreviations": [],
                    "synonyms": [],
                    "section_count": 2,
                },
                {
                    "id": "distress-tolerance",
                    "label": "Distress tolerance",
                    "parent": "dbt",
                    "abbreviations": [],
                    "synonyms": [],
                    "section_count": 3,
                },
                {
                    "id": "emotion-regulation",
                    "label": "Emotion regulation",
                    "parent": "dbt",
                    "abbreviations": [],
                    "synonyms": [],
                    "section_count": 2,
                },
                {
                    "id": "interpersonal-effectiveness",
                    "label": "Interpersonal effectiveness",
                    "parent": "dbt",
                    "abbreviations": [],
                    "synonyms": [],
                    "section_count": 6,
                },
                {
                    "id": "schema-therapy",
                    "label": "Schema therapy",
                    "parent": None,
                    "abbreviations": [],
                    "synonyms": [],
                    "section_count": 1,
                },
                {
                    "id": "tfp",
                    "label": "Transference-focused psychotherapy",
                    "parent": None,
                    "abbreviations": ["TFP"],
                    "synonyms": [],
                    "section_count": 1,
                },
                {
                    "id": "psychodynamic",
                    "label": "Psychodynamic therapy",
                    "parent": None,
                    "abbreviations": [],
                    "synonyms": [],
                    "section_count": 2,
                },
                {
                    "id": "trauma-focused",
                    "label": "Trauma-focused work",
                    "parent": None,
                    "abbreviations": [],
                    "synonyms": ["trauma", "traumatic"],
                    "section_count": 2,
                },
                {
                    "id": "family-involvement",
                    "label": "Family involvement",
                    "parent": None,
                    "abbreviations": [],
                    "synonyms": [
                        "relatives",
                        "caregivers",
                        "carers",
                        "loved one",
                        "loved ones",
                        "daughter",
                        "son",
                        "child",
                        "children",
                        "mother",
                        "father",
                        "mum",
                        "mom",
                        "dad",
                        "spouse",
                        "husband",
                        "wife",
                    ],
                    "section_count": 1,
                },
                {
                    "id": "crisis-safety",
                    "label": "Crisis and safety planning",
                    "parent": None,
                    "abbreviations": [],
                    "synonyms": ["emergency", "hospital"],
                    "section_count": 4,
                },
                {
                    "id": "self-harm",
                    "label": "Self-harm",
                    "parent": None,
                    "abbreviations": [],
                    "synonyms": ["self harming"],
                    "section_count": 2,
                },
                {
                    "id": "telehealth",
                    "label": "Telehealth",
                    "parent": None,
                    "abbreviations": [],
                    "synonyms": ["video call", "online", "remote", "virtual"],
                    "section_count": 1,
                },
                {
                    "id": "therapeutic-relationship",
                    "label": "Therapeutic relationship",
                    "parent": None,
                    "abbreviations": [],
                    "synonyms": [],
                    "section_count": 6,
                },
                {
                    "id": "co-occurring",
                    "label": "Co-occurring conditions",
                    "parent": None,
                    "abbreviations": [],
                    "synonyms": ["alcohol"],
                    "section_count": 3,
                },
                {
                    "id": "progress-relapse",
                    "label": "Progress and relapse",
                    "parent": None,
                    "abbreviations": [],
                    "synonyms": [],
                    "section_count": 6,
                },
                {
                    "id": "psychoeducation",
                    "label": "Psychoeducation",
                    "parent": None,
                    "abbreviations": [],
                    "synonyms": [],
                    "section_count": 3,
                },
                {
                    "id": "cultural-sensitivity",
                    "label": "Cultural sensitivity",
                    "parent": None,
                    "abbreviations": [],
                    "synonyms": [],
                    "section_count": 1,
                },
            ]
        },
    },
    "getTopic": {
        "request": "/api/v1/topics/telehealth",
        "response": {
            "id": "telehealth",
            "label": "Telehealth",
            "parent": None,
            "abbreviations": [],
            "synonyms": ["video call", "online", "remote", "virtual"],
            "section_count": 1,
            "sections": [
                {
                    "id": "psychotherapy-for-personality-disorders:cultural-sensitivity-and-"
                    "individualized-pacing-support-lasting-change",
                    "article": "psychotherapy-for-personality-disorders",
                    "title": "Telehealth and in-person care expand "
                    "access to transformative therapy",
                    "anchor": "cultural-sensitivity-and-individualized-pacing-support-lasting-"
                    "change",
                    "level": 2,
                }
            ],
        },
    },
    "getSuggest": {
        "request": "/api/v1/suggest?q=ment&limit=3",
        "response": {
            "query": "ment",
            "suggestions": [
                {"text": "Mentalization-based therapy", "kind": "topic", "section_id": None},
                {"text": "mentalization", "kind": "term", "section_id": None},
                {"text": "mentalization-based", "kind": "term", "section_id": None},
            ],
        },
    },
    "getHealth": {
        "request": "/api/v1/health",
        "response": {
            "status": "ok",
            "build": "20261203T120455085722Z-8e18523e",
            "built_at": "2026-12-03T12:04:55+00:00",
            "articles": 2,
            "sections": 11,
        },
    },
}
ERROR_EXAMPLE = {
    "request": "/api/v1/search?q=",
    "response": {
        "error": {
            "status": 422,
            "code": "invalid_parameter",
            "message": "invalid parameter: q: Length must be between 1 and 1000.",
            "details": {"query": {"q": ["Length must be between 1 and 1000."]}},
        }
    },
}
