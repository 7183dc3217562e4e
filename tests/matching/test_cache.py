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


def test_cache_is_safe_under_many_threads(tmp_path):
    """Issue 14: concurrent deck requests failed with an IndexError in ``get_many`` while
    another thread appended. Writers and readers at once: every row read is the one written
    for its key, nothing is lost, and a reopened cache holds the same."""
    import sys
    import threading

    dim, writers, rounds, batch = 384, 8, 40, 3
    cache = EmbeddingCache(tmp_path, "m:128", dim)

    def vector_of(key: str) -> np.ndarray:
        return np.full(dim, float(sum(map(ord, key))), dtype=np.float32)

    # A cache of some size, so an append that copies every row takes long enough to race.
    cache.put_many([f"old-{i}" for i in range(20_000)], np.ones((20_000, dim), np.float32))

    errors: list[BaseException] = []
    start = threading.Barrier(writers * 2)

    def write(w: int) -> None:
        try:
            start.wait()
            for r in range(rounds):
                keys = [f"w{w}-r{r}-{i}" for i in range(batch)]
                cache.put_many(keys, np.vstack([vector_of(k) for k in keys]))
        except BaseException as e:
            errors.append(e)

    def read(w: int) -> None:
        try:
            start.wait()
            for r in range(rounds * 4):
                keys = [f"w{(w + j) % writers}-r{r % rounds}-{j % batch}" for j in range(12)]
                for k, got in zip(keys, cache.get_many(keys), strict=True):
                    if got is not None and not np.array_equal(got, vector_of(k)):
                        raise AssertionError(f"row of {k} is another key's")
                len(cache)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    threads += [threading.Thread(target=read, args=(w,)) for w in range(writers)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, as a loaded server does
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors[:3]
    everything = [f"w{w}-r{r}-{i}" for w in range(writers) for r in range(rounds)
                  for i in range(batch)]  # fmt: skip
    assert len(cache) == len(everything) + 20_000
    for cached in (cache, EmbeddingCache(tmp_path, "m:128", dim)):
        got = cached.get_many(everything)
        assert all(np.array_equal(g, vector_of(k)) for k, g in zip(everything, got, strict=True))
