"""Embeddings, the FAISS index, ranking, explanations and title normalisation.

A library: it knows nothing of HTTP or GraphQL and can be benchmarked alone.
"""
