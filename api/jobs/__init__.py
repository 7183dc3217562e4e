"""Job postings (jobopslag)."""
