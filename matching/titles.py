"""Title normalisation: free-text job titles (Danish or English, typos allowed) to ESCO
occupations, for the CV typeahead and for new postings.

Two views of every label (Danish preferred and alternative labels, English preferred label):

* character n-grams (TF-IDF over 2-4-grams inside word boundaries) catch spelling variants and
  typos ("lagermedarbeider"),
* sentence embeddings catch meaning across wording and language ("warehouse worker").

An occupation's score is the best score of any of its labels; the hybrid score is
``alpha * ngram + (1 - alpha) * embedding``, with ``alpha`` chosen on a validation split of the
Danish alternative labels (see ``evaluate``). Occupations with the same score (a label several
occupations share, such as "lagermedarbejder") are ordered by whether the label is the
occupation's preferred label, then by how common the occupation is (``commonness``), then by the
shorter (more general) preferred label.

The typeahead (``typeahead``) answers keystrokes from the lexical views alone: the n-gram
scores, plus where the typed text occurs in a label (the label begins with it, a word of it
does, or a compound holds it), found in one scan of all labels joined into one string. Only a
query no label answers well (best lexical score below ``TYPEAHEAD_LEXICAL_SCORE``) falls back
to the hybrid search, which embeds the query; recent answers and query vectors are kept in
small in-memory LRU caches (user input: never written to disk).
"""

from __future__ import annotations

import bisect
import random
import re
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from .embeddings import Embedder

# Chosen on the validation split (jobunivers bench titles): 0.9 gave the best MAP.
DEFAULT_ALPHA = 0.9

# A free-text title counts as recognised when its best hybrid score reaches this; below it the
# employer is asked to pick the occupation. Measured on the full taxonomy with the index built
# from the split's index labels: of 1,479 held-out Danish alternative labels 95.5 % reach 0.45
# (89.7 % of 600 of them with one typo), of 810 random and pronounceable nonsense strings 1.2 %.
# The earlier 0.35 let 8.1 % of the nonsense through ("Xyzzy qwerty" scored 0.37 and was filed
# as an estate-agent assistant).
CONFIDENT_SCORE = 0.45


# How common an occupation is among the app's users, by ISCO-08 sub-major group: the weights
# the seed generator draws job-centre careers from (seed/generator.py CAREER_WEIGHTS; short
# education, manual, service and care work dominate). Other groups count 1. Only breaks ties.
COMMON_GROUPS = {
    "93": 10, "52": 8, "53": 8, "83": 6, "91": 6, "51": 5, "43": 5, "72": 5, "71": 5, "94": 4,
    "41": 4, "42": 4, "81": 4, "33": 4, "82": 3, "74": 3, "75": 3, "96": 3,
}  # fmt: skip

# Typeahead: where the typed text occurs in a label. A label beginning with it scores
# PREFIX + BAND * len(query) / len(label) (so shorter, closer labels first); a word of the label
# beginning with it WORD_PREFIX + ..., and (four letters or more) a compound holding it
# ("truckfører" in "gaffeltruckfører") INFIX + ... An exact label scores 1.
PREFIX, WORD_PREFIX, INFIX = 0.8, 0.7, 0.6
BAND = 0.2  # each kind of occurrence scores within its band, so a prefix beats a compound
MIN_INFIX = 4
# Below this best lexical score the typeahead asks the hybrid search (embedding) instead.
TYPEAHEAD_LEXICAL_SCORE = 0.5
# Typeahead results scoring less than the best minus this are left out rather than filling
# the list with unrelated titles ("pædagogmed" offering lagermedhjælper).
TYPEAHEAD_SPREAD = 0.25
QUERY_CACHE_SIZE = 2048
MAX_OCCURRENCES = 5000


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


@dataclass(frozen=True)
class TitleMatch:
    occupation_id: str
    score: float
    label: str  # the label that matched best


@dataclass(frozen=True)
class LabelEntry:
    occupation_id: str
    label: str
    preferred: bool = False  # the occupation's Danish preferred label
    isco: str = ""  # the occupation's ISCO-08 unit group


def taxonomy_entries(occupations: Sequence[dict]) -> list[LabelEntry]:
    entries = []
    for o in occupations:
        seen = set()
        for i, label in enumerate([o["labelDa"], *o.get("altLabelsDa", []), o.get("labelEn", "")]):
            key = normalise(label)
            if key and key not in seen:
                seen.add(key)
                entries.append(LabelEntry(o["_id"], label, i == 0, o.get("iscoCode", "")))
    return entries


class _LRU:
    """A small thread-safe LRU map (request threads and the event loop share it)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class TitleNormalizer:
    def __init__(
        self, entries: Sequence[LabelEntry], embedder: Embedder, alpha: float = DEFAULT_ALPHA
    ):
        self.alpha = alpha
        self.embedder = embedder
        self.occupation_ids = sorted({e.occupation_id for e in entries})
        position = {oid: i for i, oid in enumerate(self.occupation_ids)}
        # Labels grouped by occupation (preferred label first), so the best label of every
        # occupation is one reduceat over contiguous runs instead of a sort of all labels.
        entries = sorted(entries, key=lambda e: (position[e.occupation_id], not e.preferred))
        self.labels = [e.label for e in entries]
        self.label_occ = np.array([position[e.occupation_id] for e in entries], dtype=np.int64)
        self._group_starts = np.flatnonzero(np.r_[True, self.label_occ[1:] != self.label_occ[:-1]])
        self._group_sizes = np.diff(np.r_[self._group_starts, len(entries)])
        self._positions = np.arange(len(entries))
        texts = [normalise(label) for label in self.labels]
        self.vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, lowercase=True
        )
        self.ngram_matrix = self.vectorizer.fit_transform(texts).T.tocsr()  # features x labels
        # Label vectors come through the embedder's content-hash disk cache: computed once.
        self.label_vectors = embedder.encode(texts)
        self.texts = texts
        self.label_preferred = np.array([e.preferred for e in entries], dtype=bool)
        # Per occupation: tie-break keys (how common; length of the preferred label).
        common = np.ones(len(self.occupation_ids))
        preferred_len = np.full(len(self.occupation_ids), 1000.0)
        for e in entries:
            i = position[e.occupation_id]
            common[i] = max(common[i], COMMON_GROUPS.get(e.isco[:2], 1))
            if e.preferred:
                preferred_len[i] = len(e.label)
        self.commonness = common
        self._preferred_len = preferred_len
        # Typeahead: all labels joined by newlines, one scan finds where the query occurs.
        self._joined = "\n".join(texts)
        self._starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]]).tolist()
        self._answers = _LRU(QUERY_CACHE_SIZE)  # (query, k) -> typeahead matches
        self._vectors = _LRU(QUERY_CACHE_SIZE)  # query -> embedding
        self.fallbacks = 0  # typeahead queries answered by the hybrid search (tests, benches)

    def __len__(self) -> int:
        return len(self.occupation_ids)

    def _per_occupation(self, label_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best score per occupation, and which label gave it (the preferred label among equals)."""
        best = np.maximum.reduceat(label_scores, self._group_starts)
        is_best = label_scores >= np.repeat(best, self._group_sizes)
        # The first of an occupation's best labels: its preferred label when that is one.
        best_label = np.minimum.reduceat(
            np.where(is_best, self._positions, len(label_scores)), self._group_starts
        )
        return best, best_label

    def _order(self, combined: np.ndarray, best_label: np.ndarray, k: int) -> np.ndarray:
        """The top ``k`` occupations by score; equal scores by preferred label, commonness,
        shorter preferred label, id."""
        rounded = np.round(combined, 6)
        k = min(k, len(rounded))
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        # Everything tied with the k-th score takes part in the tie-break.
        kth = np.partition(-rounded, k - 1)[k - 1]
        pool = np.flatnonzero(-rounded <= kth)
        keys = (
            pool,
            self._preferred_len[pool],
            -self.commonness[pool],
            ~self.label_preferred[best_label[pool]],
            -rounded[pool],
        )
        return pool[np.lexsort(keys)][:k]

    def query_vectors(self, texts: Sequence[str]) -> np.ndarray:
        # Queries are user input: embedded fresh, never written to the on-disk cache.
        return self.embedder.encode_uncached([normalise(t) for t in texts])

    def clear_caches(self) -> None:
        """Forget cached typeahead answers and query vectors (benches measure cold queries)."""
        self._answers = _LRU(QUERY_CACHE_SIZE)
        self._vectors = _LRU(QUERY_CACHE_SIZE)

    def query_vector(self, text: str) -> np.ndarray:
        """One query's embedding, from the in-memory LRU when it was embedded lately."""
        query = normalise(text)
        vector = self._vectors.get(query)
        if vector is None:
            vector = self.query_vectors([query])[0]
            self._vectors.put(query, vector)
        return vector

    def scores(
        self, text: str, query_vector: np.ndarray | None = None, cached: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-label n-gram and embedding scores."""
        query = normalise(text)
        sparse = self.vectorizer.transform([query]) @ self.ngram_matrix
        ngram = np.asarray(sparse.todense()).ravel()
        if query_vector is None:
            query_vector = self.query_vector(query) if cached else self.query_vectors([query])[0]
        return ngram, self.label_vectors @ query_vector

    def search(
        self, text: str, k: int = 10, alpha: float | None = None, cached: bool = True
    ) -> list[TitleMatch]:
        """The hybrid search (embeds the query unless its vector is cached; ``cached=False``
        embeds it anew, as before the cache: the benches' old path)."""
        if not normalise(text):
            return []
        a = self.alpha if alpha is None else alpha
        ngram, emb = self.scores(text, cached=cached)
        ngram_occ, ngram_label = self._per_occupation(ngram)
        emb_occ, emb_label = self._per_occupation(emb)
        combined = a * ngram_occ + (1 - a) * emb_occ
        use_ngram = a * ngram_occ >= (1 - a) * emb_occ
        best_label = np.where(use_ngram, ngram_label, emb_label)
        top = self._order(combined, best_label, k)
        return [
            TitleMatch(
                self.occupation_ids[i],
                float(combined[i]),
                self.labels[best_label[i]],
            )
            for i in top
        ]

    # --- typeahead ---------------------------------------------------------------------------
    def lexical_scores(self, text: str) -> np.ndarray:
        """Per-label typeahead scores without the embedding: n-gram cosine, raised where the
        query begins the label, begins one of its words, or sits inside a compound."""
        query = normalise(text)
        sparse = self.vectorizer.transform([query]) @ self.ngram_matrix
        scores = np.asarray(sparse.todense()).ravel()
        if "\n" in query or not query:
            return scores
        joined, starts, n = self._joined, self._starts, len(query)
        for at in self._occurrences(query):
            i = bisect.bisect_right(starts, at) - 1
            offset = at - starts[i]
            length = len(self.texts[i])
            ratio = n / length
            if offset == 0:
                boost = 1.0 if n == length else PREFIX + BAND * ratio
            elif joined[at - 1] in " -/(":
                boost = WORD_PREFIX + BAND * ratio
            elif n >= MIN_INFIX:
                boost = INFIX + BAND * ratio
            else:
                boost = 0.0
            if boost > scores[i]:
                scores[i] = boost
        return scores

    def _occurrences(self, query: str):
        """Where ``query`` occurs in the joined labels; for a query shorter than MIN_INFIX only
        at the start of a label or word (one or two letters occur tens of thousands of times
        inside words), and at most MAX_OCCURRENCES places."""
        joined = self._joined
        if len(query) >= MIN_INFIX:
            needles, skip = [query], 0
        else:
            needles, skip = [f"{c}{query}" for c in "\n -/("], 1
            if joined.startswith(query):
                yield 0
        found = 0
        for needle in needles:
            at = joined.find(needle)
            while at != -1 and found < MAX_OCCURRENCES:
                found += 1
                yield at + skip
                at = joined.find(needle, at + 1)

    def typeahead_lexical(self, text: str, k: int = 10) -> list[TitleMatch] | None:
        """Typeahead from the lexical index only (no embedding); None when no label answers
        the query well enough, so the caller falls back to ``search`` (off the event loop)."""
        query = normalise(text)
        if not query:
            return []
        cached = self._answers.get((query, k))
        if cached is not None:
            return list(cached)
        scores = self.lexical_scores(query)
        # Only the best labels can give the top k occupations: rank those, not all 12,000.
        m = min(len(scores), max(64, 16 * k))
        candidates = np.argpartition(-scores, m - 1)[:m]
        occupations = self.label_occ[candidates]
        by_occupation = np.lexsort(
            (~self.label_preferred[candidates], -scores[candidates], occupations)
        )
        first = np.unique(occupations[by_occupation], return_index=True)[1]
        best_labels = candidates[by_occupation[first]]  # each occupation's best label
        occ = self.label_occ[best_labels]
        best = np.round(scores[best_labels], 6)
        keys = (
            occ,
            self._preferred_len[occ],
            -self.commonness[occ],
            ~self.label_preferred[best_labels],
            -best,
        )
        top = np.lexsort(keys)[:k]
        if not len(top) or best[top[0]] < TYPEAHEAD_LEXICAL_SCORE:
            return None
        floor = best[top[0]] - TYPEAHEAD_SPREAD
        matches = tuple(
            TitleMatch(self.occupation_ids[occ[i]], float(best[i]), self.labels[best_labels[i]])
            for i in top
            if best[i] >= floor
        )
        self._answers.put((query, k), matches)
        return list(matches)

    def typeahead(self, text: str, k: int = 10) -> list[TitleMatch]:
        """Lexical typeahead, or the hybrid search (embeds the query) when lexical fails."""
        found = self.typeahead_lexical(text, k)
        if found is not None:
            return found
        query = normalise(text)
        cached = self._answers.get((query, k))
        if cached is not None:
            return list(cached)
        self.fallbacks += 1
        matches = tuple(self.search(query, k))
        self._answers.put((query, k), matches)
        return list(matches)

    def ranked_ids(
        self, text: str, vector: np.ndarray, alphas: Sequence[float], depth: int = 100
    ) -> dict[float, list[str]]:
        """Rankings for several alphas from one scoring pass (for evaluation)."""
        ngram, emb = self.scores(text, vector)
        ngram_occ, ngram_label = self._per_occupation(ngram)
        emb_occ, emb_label = self._per_occupation(emb)
        out = {}
        for a in alphas:
            combined = a * ngram_occ + (1 - a) * emb_occ
            best_label = np.where(a * ngram_occ >= (1 - a) * emb_occ, ngram_label, emb_label)
            out[a] = [self.occupation_ids[i] for i in self._order(combined, best_label, depth)]
        return out


# --- evaluation --------------------------------------------------------------------------------
@dataclass
class Split:
    index_entries: list[LabelEntry]
    validation: dict[str, set[str]]  # query text -> relevant occupation ids
    test: dict[str, set[str]]


def split_alternative_labels(occupations: Sequence[dict], seed: int = 13) -> Split:
    """Hold out Danish alternative labels as queries: 10 % validation, 20 % test. The index keeps
    the preferred labels, the English labels and the remaining alternative labels. A query's
    relevant occupations are all concepts carrying that label anywhere in the taxonomy."""
    rng = random.Random(seed)
    owners: dict[str, set[str]] = defaultdict(set)
    for o in occupations:
        for label in [o["labelDa"], *o.get("altLabelsDa", [])]:
            owners[normalise(label)].add(o["_id"])
    held: dict[str, str] = {}
    index_entries: list[LabelEntry] = []
    for o in occupations:
        isco = o.get("iscoCode", "")
        index_entries.append(LabelEntry(o["_id"], o["labelDa"], True, isco))
        if o.get("labelEn"):
            index_entries.append(LabelEntry(o["_id"], o["labelEn"], False, isco))
        for label in o.get("altLabelsDa", []):
            key = normalise(label)
            if key in owners and len(owners[key]) == 1 and key != normalise(o["labelDa"]):
                r = rng.random()
                if r < 0.3:
                    held[key] = "validation" if r < 0.1 else "test"
                    continue
            index_entries.append(LabelEntry(o["_id"], label, False, isco))
    validation = {q: owners[q] for q, part in held.items() if part == "validation"}
    test = {q: owners[q] for q, part in held.items() if part == "test"}
    return Split(index_entries, validation, test)


def ranking_metrics(
    rankings: dict[str, list[str]], relevant: dict[str, set[str]]
) -> dict[str, float]:
    ap_sum = rr_sum = recall_sum = 0.0
    for query, ranked in rankings.items():
        rel = relevant[query]
        hits, precision_sum, first = 0, 0.0, None
        for pos, oid in enumerate(ranked, start=1):
            if oid in rel:
                hits += 1
                precision_sum += hits / pos
                first = first or pos
        ap_sum += precision_sum / len(rel)
        rr_sum += 1 / first if first else 0.0
        recall_sum += len(rel & set(ranked[:10])) / len(rel)
    n = max(len(rankings), 1)
    return {
        "MAP": ap_sum / n,
        "MRR": rr_sum / n,
        "recall@10": recall_sum / n,
        "queries": len(rankings),
    }


def evaluate(occupations: Sequence[dict], embedder: Embedder, seed: int = 13) -> dict:
    """MAP, MRR and recall@10 on held-out alternative labels for n-grams alone, embeddings
    alone and the hybrid with alpha tuned on the validation split."""
    split = split_alternative_labels(occupations, seed)
    normalizer = TitleNormalizer(split.index_entries, embedder)
    alphas = [round(a * 0.1, 1) for a in range(11)]

    def run(queries: dict[str, set[str]]) -> dict[float, dict[str, float]]:
        per_alpha: dict[float, dict[str, list[str]]] = {a: {} for a in alphas}
        texts = list(queries)
        vectors = normalizer.query_vectors(texts)
        for q, vector in zip(texts, vectors, strict=True):
            for a, ranked in normalizer.ranked_ids(q, vector, alphas).items():
                per_alpha[a][q] = ranked
        return {a: ranking_metrics(per_alpha[a], queries) for a in alphas}

    validation = run(split.validation)
    best_alpha = max((a for a in alphas if 0 < a < 1), key=lambda a: validation[a]["MAP"])
    test = run(split.test)
    return {
        "alpha": best_alpha,
        "validation_queries": len(split.validation),
        "test_queries": len(split.test),
        "ngram": test[1.0],
        "embedding": test[0.0],
        "hybrid": test[best_alpha],
    }
