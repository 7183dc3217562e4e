"""Title normalisation and the typeahead over the full taxonomy (issue 17): typos, labels
several occupations share, keystroke prefixes, and that the lexical typeahead never embeds.

A stand-in embedder (hashed character trigrams) keeps these tests off the model: what is
tested is the lexical index, the tie-break and when the embedding is asked for. The real
model's figures are `jobunivers bench titles` and `jobunivers bench typeahead`.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from core.settings import Settings
from matching.titles import TitleNormalizer, taxonomy_entries
from seed.taxonomy import load_taxonomy


class HashEmbedder:
    """A stand-in model: hashed character trigrams, so like texts get like unit vectors."""

    dimension = 256
    model_id = "hash"

    def __init__(self) -> None:
        self.embedded = 0

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dimension, dtype=np.float32)
        padded = f" {text} "
        for i in range(len(padded) - 2):
            digest = hashlib.blake2b(padded[i : i + 3].encode(), digest_size=4).digest()
            v[int.from_bytes(digest, "little") % self.dimension] += 1.0
        norm = np.linalg.norm(v)
        return v / norm if norm else v

    def encode(self, texts):
        return np.stack([self._vector(t) for t in texts])

    def encode_uncached(self, texts):
        self.embedded += len(texts)
        return self.encode(texts)


@pytest.fixture(scope="module")
def taxonomy():
    occupations = load_taxonomy(Settings().taxonomy_dir).occupations
    return {o["_id"]: o for o in occupations}


@pytest.fixture(scope="module")
def built(taxonomy):
    embedder = HashEmbedder()
    return TitleNormalizer(taxonomy_entries(list(taxonomy.values())), embedder), embedder


@pytest.fixture
def titles(built):
    """The module's normaliser with empty caches and counters."""
    normalizer, embedder = built
    normalizer.clear_caches()
    normalizer.fallbacks = embedder.embedded = 0
    return normalizer, embedder


def labels(taxonomy, matches) -> list[str]:
    return [taxonomy[m.occupation_id]["labelDa"] for m in matches]


@pytest.mark.parametrize("search", ["lagermedarbjder", "lagermedarbejder"])
def test_a_shared_label_goes_to_the_common_occupation_not_a_three_way_tie(taxonomy, titles, search):
    """Three occupations carry "lagermedarbejder" as an alternative label: the elementary
    warehouse worker (ISCO 9333) comes first, with or without the typo, on both paths."""
    normalizer, _ = titles
    for matches in (normalizer.search(search, 3), normalizer.typeahead(search, 3)):
        assert labels(taxonomy, matches)[0] == "lagerarbejder"
        assert matches[0].label == "lagermedarbejder"


def test_a_preferred_label_beats_the_same_alternative_label(taxonomy, titles):
    """ "lagerarbejder" is the preferred label of one occupation and an alternative of two."""
    normalizer, _ = titles
    for matches in (normalizer.search("lagerarbejder", 3), normalizer.typeahead("lagerarbejder")):
        assert labels(taxonomy, matches)[0] == "lagerarbejder"


def test_paedagogmedhjaelper_is_not_the_trained_pedagogue(taxonomy, titles):
    normalizer, _ = titles
    for matches in (normalizer.search("pædagogmedhjælper", 5), normalizer.typeahead("pædagogmedhjælper")):  # fmt: skip
        assert labels(taxonomy, matches)[0] != "børnehavepædagog"
        assert taxonomy[matches[0].occupation_id]["iscoCode"][:2] == "53"


def test_typeahead_keystrokes_stay_on_the_field(taxonomy, titles):
    normalizer, _ = titles
    offered = labels(taxonomy, normalizer.typeahead("pædagogmed", 8))
    assert offered and "lagerarbejder" not in offered
    assert all(taxonomy[m.occupation_id]["iscoCode"][0] in "235" for m in normalizer.typeahead("pædagogmed", 8))  # fmt: skip
    assert labels(taxonomy, normalizer.typeahead("lagerarb", 8))[0] == "lagerarbejder"
    assert "buschauffør" in labels(taxonomy, normalizer.typeahead("buschauf", 8))
    assert "gaffeltruckfører" in labels(taxonomy, normalizer.typeahead("truckfører", 8))
    assert "buschauffør" in labels(taxonomy, normalizer.typeahead("chaufør", 8))  # a typo
    assert labels(taxonomy, normalizer.typeahead("warehouse worker", 8))[0] == "lagerarbejder"


def test_the_lexical_typeahead_never_embeds_and_caches_its_answers(titles):
    normalizer, embedder = titles
    for typed in ("lag", "lage", "lager", "lagerm", "lagermedarb", "chaufør", "pædagogmed"):
        assert normalizer.typeahead_lexical(typed, 8)
    assert embedder.embedded == 0 and normalizer.fallbacks == 0
    first = normalizer.typeahead("lagermedarb", 8)
    assert normalizer.typeahead("lagermedarb", 8) == first
    assert embedder.embedded == 0


def test_a_query_no_label_answers_falls_back_to_the_embedding_once(titles):
    normalizer, embedder = titles
    assert normalizer.typeahead_lexical("qxzv wkpj", 8) is None
    matches = normalizer.typeahead("qxzv wkpj", 8)
    assert len(matches) == 8 and embedder.embedded == 1 and normalizer.fallbacks == 1
    assert normalizer.typeahead("qxzv wkpj", 8) == matches  # the cached answer
    assert embedder.embedded == 1
    normalizer.search("qxzv wkpj", 3)  # the query vector is cached too
    assert embedder.embedded == 1
    normalizer.search("qxzv wkpj", 3, cached=False)
    assert embedder.embedded == 2


def test_empty_and_blank_queries_answer_nothing(titles):
    normalizer, embedder = titles
    assert normalizer.typeahead("   ", 8) == [] and normalizer.search("", 8) == []
    assert embedder.embedded == 0


def test_one_or_two_letters_offer_labels_beginning_with_them(titles):
    normalizer, embedder = titles
    for typed in ("l", "la", "bu"):
        matches = normalizer.typeahead_lexical(typed, 8)
        assert matches, typed
        assert all(any(w.startswith(typed) for w in m.label.lower().split()) for m in matches)
    assert embedder.embedded == 0
