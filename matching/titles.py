"""Title normalisation: free-text job titles (Danish or English, typos allowed) to ESCO
occupations, for the CV typeahead and for new postings.

Two views of every label (Danish preferred and alternative labels, English preferred label):

* character n-grams (TF-IDF over 2-4-grams inside word boundaries) catch spelling variants and
  typos ("lagermedarbeider"),
* sentence embeddings catch meaning across wording and language ("warehouse worker").

An occupation's score is the best score of any of its labels; the hybrid score is
``alpha * ngram + (1 - alpha) * embedding``, with ``alpha`` chosen on a validation split of the
Danish alternative labels (see ``evaluate``).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
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


def taxonomy_entries(occupations: Sequence[dict]) -> list[LabelEntry]:
    entries = []
    for o in occupations:
        seen = set()
        for label in [o["labelDa"], *o.get("altLabelsDa", []), o.get("labelEn", "")]:
            key = normalise(label)
            if key and key not in seen:
                seen.add(key)
                entries.append(LabelEntry(o["_id"], label))
    return entries


class TitleNormalizer:
    def __init__(
        self, entries: Sequence[LabelEntry], embedder: Embedder, alpha: float = DEFAULT_ALPHA
    ):
        self.alpha = alpha
        self.embedder = embedder
        self.labels = [e.label for e in entries]
        self.occupation_ids = sorted({e.occupation_id for e in entries})
        position = {oid: i for i, oid in enumerate(self.occupation_ids)}
        self.label_occ = np.array([position[e.occupation_id] for e in entries], dtype=np.int64)
        texts = [normalise(label) for label in self.labels]
        self.vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, lowercase=True
        )
        self.ngram_matrix = self.vectorizer.fit_transform(texts).T.tocsr()  # features x labels
        self.label_vectors = embedder.encode(texts)

    def __len__(self) -> int:
        return len(self.occupation_ids)

    def _per_occupation(self, label_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best score per occupation, and which label gave it."""
        best = np.full(len(self.occupation_ids), -1.0)
        np.maximum.at(best, self.label_occ, label_scores)
        order = np.lexsort((-label_scores, self.label_occ))
        first = np.unique(self.label_occ[order], return_index=True)[1]
        best_label = order[first]
        return best, best_label

    def query_vectors(self, texts: Sequence[str]) -> np.ndarray:
        # Queries are user input: embedded fresh, never written to the on-disk cache.
        return self.embedder.encode_uncached([normalise(t) for t in texts])

    def scores(
        self, text: str, query_vector: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-label n-gram and embedding scores."""
        query = normalise(text)
        sparse = self.vectorizer.transform([query]) @ self.ngram_matrix
        ngram = np.asarray(sparse.todense()).ravel()
        if query_vector is None:
            query_vector = self.query_vectors([query])[0]
        return ngram, self.label_vectors @ query_vector

    def search(self, text: str, k: int = 10, alpha: float | None = None) -> list[TitleMatch]:
        if not normalise(text):
            return []
        a = self.alpha if alpha is None else alpha
        ngram, emb = self.scores(text)
        ngram_occ, ngram_label = self._per_occupation(ngram)
        emb_occ, emb_label = self._per_occupation(emb)
        combined = a * ngram_occ + (1 - a) * emb_occ
        top = np.argsort(-combined)[:k]
        return [
            TitleMatch(
                self.occupation_ids[i],
                float(combined[i]),
                self.labels[
                    ngram_label[i] if a * ngram_occ[i] >= (1 - a) * emb_occ[i] else emb_label[i]
                ],
            )
            for i in top
        ]

    def ranked_ids(
        self, text: str, vector: np.ndarray, alphas: Sequence[float], depth: int = 100
    ) -> dict[float, list[str]]:
        """Rankings for several alphas from one scoring pass (for evaluation)."""
        ngram, emb = self.scores(text, vector)
        ngram_occ, _ = self._per_occupation(ngram)
        emb_occ, _ = self._per_occupation(emb)
        out = {}
        for a in alphas:
            combined = a * ngram_occ + (1 - a) * emb_occ
            out[a] = [self.occupation_ids[i] for i in np.argsort(-combined)[:depth]]
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
        index_entries.append(LabelEntry(o["_id"], o["labelDa"]))
        if o.get("labelEn"):
            index_entries.append(LabelEntry(o["_id"], o["labelEn"]))
        for label in o.get("altLabelsDa", []):
            key = normalise(label)
            if key in owners and len(owners[key]) == 1 and key != normalise(o["labelDa"]):
                r = rng.random()
                if r < 0.3:
                    held[key] = "validation" if r < 0.1 else "test"
                    continue
            index_entries.append(LabelEntry(o["_id"], label))
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
