"""Composition root: the `jobunivers` command line and the `make run` supervisor."""
