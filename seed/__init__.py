"""Taxonomy import and demo data. The generator is deterministic for a given seed number."""
