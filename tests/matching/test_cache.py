"""The on-disk embedding cache: shared across instances, repairs a torn append."""

from __future__ import annotations

import numpy as np

from matching.cache import EmbeddingCache


def test_cache_survives_reopen(tmp_path):
    cache = EmbeddingCache(tmp_path, "m:128", 4)
    cache.put_many(["a", "b"], np.eye(4, dtype=np.float32)[:2])
    reopened = EmbeddingCache(tmp_path, "m:128", 4)
    got = reopened.get_many(["b", "zz", "a"])
    assert got[1] is None
    assert np.array_equal(got[0], np.eye(4)[1]) and np.array_equal(got[2], np.eye(4)[0])


def test_torn_append_is_repaired(tmp_path):
    cache = EmbeddingCache(tmp_path, "m:128", 4)
    cache.put_many(["a"], np.ones((1, 4), dtype=np.float32))
    with open(cache.rows_path, "ab") as f:  # a crash after writing half a row, no key
        f.write(b"\x00" * 8)
    repaired = EmbeddingCache(tmp_path, "m:128", 4)
    assert len(repaired) == 1
    repaired.put_many(["b"], np.full((1, 4), 2, dtype=np.float32))
    again = EmbeddingCache(tmp_path, "m:128", 4)
    assert np.array_equal(again.get_many(["b"])[0], np.full(4, 2))
    assert np.array_equal(again.get_many(["a"])[0], np.ones(4))


def test_models_do_not_share_entries(tmp_path):
    EmbeddingCache(tmp_path, "m:128", 4).put_many(["a"], np.ones((1, 4), dtype=np.float32))
    assert EmbeddingCache(tmp_path, "m:256", 4).get_many(["a"]) == [None]
