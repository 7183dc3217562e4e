"""Light Danish word forms for matching a posting's requirements against a CV.

"Pluk og pak med scanner" in a CV meets the requirement "plukning med scanner": both are
reduced to their content words' stems (stop words dropped), and a requirement is met when one
CV item holds a stem for each of the requirement's words.

The stem is the Snowball Danish stemmer's (``snowballstemmer``, pure Python), then a few
derivational endings the Snowball algorithm leaves on purpose (-ning, -ing, -else: "plukning"
-> "pluk", "læsning" -> "læs"), never below three letters. A CV word meets a requirement's word
when their stems are equal, or when the requirement's stem (of four letters or more) begins or
ends the CV's, which is how Danish compounds narrow a word: "hygiejnebevis" meets "hygiejne",
"truckcertifikat" meets "certifikat"; never the other way ("mad" does not meet "madlavning").
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

_STEMMER = snowballstemmer.stemmer("danish")
_WORD = re.compile(r"[0-9a-zæøåéü]+")
# Words that say nothing about a skill. ("de" is left out: it is also a licence class, DE.)
STOP_WORDS = frozenset(
    ("og", "eller", "med", "i", "af", "til", "for", "på", "en", "et", "at", "som", "samt",
     "den", "det", "du", "der", "om", "fra", "ved", "under", "erfaring", "kendskab", "viden",
     "evt", "gerne")
)  # fmt: skip
_ENDINGS = ("ning", "ing", "else")
MIN_STEM = 3
MIN_PART = 4  # a requirement's stem found inside a CV compound


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    base = _STEMMER.stemWord(word.lower())
    for ending in _ENDINGS:
        if base.endswith(ending) and len(base) - len(ending) >= MIN_STEM:
            return base[: -len(ending)]
    return base


@lru_cache(maxsize=16_384)
def stems(text: str) -> tuple[str, ...]:
    """The content words of ``text``, stemmed, in order (stop words dropped)."""
    return tuple(stem(w) for w in _WORD.findall(text.lower()) if w not in STOP_WORDS)


def stem_meets(required: str, have: str) -> bool:
    """The CV's stem ``have`` is the requirement's stem ``required`` or a compound of it."""
    if required == have:
        return True
    return len(required) >= MIN_PART and (have.startswith(required) or have.endswith(required))


def phrase_met(phrase: str, item: str) -> bool:
    """Every content word of ``phrase`` has a matching word in ``item``."""
    wanted = stems(phrase)
    have = stems(item)
    if not wanted or not have:
        return False
    return all(any(stem_meets(w, h) for h in have) for w in wanted)
