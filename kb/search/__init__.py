"""Search over one index build: query building, ranking, snippets, facets, suggestions.

Everything returned is a kb model (kb.models); Whoosh objects stay inside this package.

    settings     RankingSettings, the text fields searched
    query        words, corrections, phrases and taxonomy expansions -> a Whoosh query
    spelling     the index vocabulary and the closest known word to a misspelt one
    ranking      BM25F with Lucene's idf, scored term at a time; pseudo-relevance feedback
    facets       per-document tables: topic/article filters and facet counts
    snippets     the best fragment of a section around the query terms, marked up
    suggest      as-you-type suggestions
    cache        the bounded caches and their bounds
    related      sections like a section
    build        KnowledgeBase: one opened index build, wiring the above together
    live         LiveKnowledgeBase: follows an index directory's CURRENT build
"""

from __future__ import annotations

from kb.errors import ArticleNotFound, InvalidQuery, SectionNotFound, TopicNotFound
from kb.search.build import KnowledgeBase
from kb.search.live import LiveKnowledgeBase
from kb.search.query import ParsedQuery
from kb.search.settings import PHRASE_FIELDS, TEXT_FIELDS, RankingSettings
from kb.search.snippets import MarkFormatter, markdown_to_plain

__all__ = [
    "PHRASE_FIELDS",
    "TEXT_FIELDS",
    "ArticleNotFound",
    "InvalidQuery",
    "KnowledgeBase",
    "LiveKnowledgeBase",
    "MarkFormatter",
    "ParsedQuery",
    "RankingSettings",
    "SectionNotFound",
    "TopicNotFound",
    "markdown_to_plain",
]
