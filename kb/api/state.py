"""The shared live index in app.extensions, and the build a request reads, pinned in `g`.

One LiveKnowledgeBase per app follows index rebuilds; each request pins the build that
was current when it started, so a switch in the middle of a request cannot mix builds.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from flask_smorest import abort

from kb.index import IndexNotFound
from kb.safety import CrisisSettings
from kb.search import KnowledgeBase, LiveKnowledgeBase


def init_app(app: Flask) -> None:
    crisis = CrisisSettings(
        title=app.config["KB_CRISIS_TITLE"],
        message=app.config["KB_CRISIS_MESSAGE"],
        resources=tuple(app.config["KB_CRISIS_RESOURCES"]),
    )
    app.extensions["kb-crisis"] = crisis  # error responses check raw queries too
    app.extensions["kb"] = LiveKnowledgeBase(app.config["KB_INDEX_DIR"], crisis=crisis)


INDEX_RETRY_AFTER_SECONDS = 10


def get_kb() -> KnowledgeBase:
    if "kb" not in g:
        try:
            g.kb = current_app.extensions["kb"].get()
        except IndexNotFound as exc:
            # A build is usually a few seconds away: ask clients to come back, not hammer.
            abort(
                503,
                message=f"search is unavailable: {exc}",
                code="index_unavailable",
                headers={"Retry-After": str(INDEX_RETRY_AFTER_SECONDS)},
            )
    return g.kb
