"""Helpers to evaluate kb ranking settings on the tuning splits (used by tune.py)."""

from __future__ import annotations

import copy
import threading
import time

from benchmarks.common import (
    COLLECTIONS,
    doc_slug_map,
    evaluate,
    load_collection,
    prepare_kb,
    slug_to_doc,
)
from kb.index import current_build
from kb.search import TEXT_FIELDS, KnowledgeBase, RankingSettings


def with_ranking(kb: KnowledgeBase, settings: RankingSettings) -> KnowledgeBase:
    """A view of an opened KnowledgeBase with other ranking settings (no re-open)."""
    view = copy.copy(kb)
    view.ranking = settings
    weights = (settings.title_weight, settings.body_weight, settings.breadcrumb_weight)
    view._field_weights = tuple((f, w) for f, w in zip(TEXT_FIELDS, weights, strict=True) if w > 0)
    view._local = threading.local()
    return view


class Bench:
    """Opened collections with their tuning and test judgments."""

    def __init__(self, names=COLLECTIONS, fresh=False, log=print):
        self.items = {}
        for name in names:
            coll = load_collection(name)
            index = prepare_kb(name, [(coll.folder / "corpus.jsonl", "")], fresh=fresh, log=log)
            kb = KnowledgeBase(current_build(index))
            self.items[name] = (coll, kb, doc_slug_map(coll))

    def tuning_sets(self) -> dict[str, tuple[str, dict]]:
        """name -> (collection, qrels): SciFact train, NFCorpus dev, Cranfield folds A/B."""
        sets = {}
        for name, (coll, _kb, _map) in self.items.items():
            if name == "scifact":
                sets["scifact/train"] = (name, coll.qrels("train"))
            elif name == "nfcorpus":
                sets["nfcorpus/dev"] = (name, coll.qrels("dev"))
            elif name == "cranfield":
                test = coll.qrels("test")
                order = sorted(test, key=int)
                sets["cranfield/foldA"] = (name, {q: test[q] for q in order[0::2]})
                sets["cranfield/foldB"] = (name, {q: test[q] for q in order[1::2]})
        return sets

    def run(self, name: str, qrels: dict, settings: RankingSettings, limit: int = 100):
        coll, kb, back = self.items[name]
        view = with_ranking(kb, settings)
        started = time.perf_counter()
        run = {
            q: [
                (back[slug_to_doc(sid)], score)
                for sid, score in view.rank(coll.queries[q], limit=limit)
            ]
            for q in qrels
        }
        return run, time.perf_counter() - started

    def score(self, name: str, qrels: dict, settings: RankingSettings):
        run, seconds = self.run(name, qrels, settings)
        return evaluate(run, qrels), seconds
