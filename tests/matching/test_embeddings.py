"""The embedder's own batching (threads, length-sorted batches) gives the same vectors as
sentence-transformers' ``encode``, in the caller's order, the cache never re-embeds, and
freed activations are reused rather than page-faulted in again."""

from __future__ import annotations

import platform
import resource
import statistics

import numpy as np
import pytest

from matching.embeddings import Embedder

TEXTS = [
    "Lagermedarbejder. Krav: truckcertifikat B, lagerstyring. Vi søger en stabil kollega.",
    "Rengøringsassistent",
    "Buschauffør til rutekørsel i Kolding. Krav: kørekort D, erhvervsuddannelse.",
    "Kok. Krav: hygiejnebevis. " + "Travl restaurant med fokus på lokale råvarer. " * 30,
    "Salgsassistent i dagligvarebutik, deltid, weekend",
] * 5  # 25 texts: several batches of mixed length


@pytest.fixture(scope="module")
def parallel() -> Embedder:
    """Two workers and small batches, so the 25 texts really go through the thread pool."""
    return Embedder(workers=2, batch_size=4)


def test_parallel_batches_equal_sentence_transformers_encode(parallel: Embedder):
    assert parallel._pool is not None
    reference = parallel.model.encode(
        TEXTS, batch_size=4, normalize_embeddings=True, convert_to_numpy=True,
        show_progress_bar=False,
    )  # fmt: skip
    ours = parallel.encode_uncached(TEXTS)
    assert ours.shape == (len(TEXTS), parallel.dimension) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, reference, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    # Distinct texts give distinct vectors, and position i belongs to text i.
    assert not np.allclose(ours[0], ours[1])
    np.testing.assert_allclose(ours[0], ours[5], atol=1e-6)


def test_single_worker_gives_the_same_vectors(parallel: Embedder):
    single = Embedder(workers=1, batch_size=3)
    assert single._pool is None
    np.testing.assert_allclose(
        single.encode_uncached(TEXTS[:7]), parallel.encode_uncached(TEXTS[:7]), atol=1e-5
    )


def test_cache_answers_repeated_texts_without_the_model(tmp_path):
    embedder = Embedder(cache_dir=tmp_path, workers=2, batch_size=2)
    first = embedder.encode(TEXTS[:5])
    calls = []
    original = embedder.encode_uncached
    embedder.encode_uncached = lambda texts: calls.append(list(texts)) or original(texts)
    again = embedder.encode([*TEXTS[:5], "Pædagogmedhjælper"])
    assert calls == [["Pædagogmedhjælper"]]
    np.testing.assert_array_equal(again[:5], first)


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc mallopt"
)
def test_freed_activations_are_reused_not_page_faulted_again():
    """With the memory setting, a batch's activations (here 16 x 128 tokens x 1536 floats =
    12.6 MB, 3,072 pages) come from the heap the last batch freed. Without it (a fresh process
    with reuse_memory=False) each pass of these 32 texts page-faults 45,000-77,000 pages."""
    embedder = Embedder(workers=1, batch_size=16)
    assert embedder.reuses_memory
    long_texts = [f"Kok {i}. Krav: hygiejnebevis. " + "Travl restaurant. " * 60 for i in range(32)]
    embedder.encode_uncached(long_texts)
    faults = []
    for _ in range(5):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        embedder.encode_uncached(long_texts)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    one_activation_pages = 16 * 128 * 1536 * 4 // 4096
    assert statistics.median(faults) < one_activation_pages, faults
