"""Devices, preferences, the inbox, the outbox and the worker that sends through FCM, and the
job agent that turns new postings into alerts."""
