"""How common a word is in English, from wordfreq's word lists (shipped inside the package).

Spelling correction (kb.search.query) and crisis detection (kb.safety) both need to know
whether a word the articles do not contain is a real English word ("whale", "reduction")
or a misspelling ("medicaton", "sucide"). wordfreq answers with a Zipf frequency: 6 for
"while", 4 for "whale", 0 for words it has never seen. Nothing is downloaded at run time.
"""

from __future__ import annotations

from functools import lru_cache

from wordfreq import zipf_frequency

# A word at least this common (about once per 3 million words) is an English word, not a
# typo: "harn" (1.7) and "sucide" (1.4) are below it, "whale" (4.0) and "kms" (3.1) above.
ENGLISH_ZIPF = 2.5


@lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    """The Zipf frequency of `word` in English (0.0 when unknown)."""
    return zipf_frequency(word, "en")


def is_english_word(word: str) -> bool:
    """Whether `word` is common enough in English to be a word of its own, not a typo."""
    return zipf(word) >= ENGLISH_ZIPF
