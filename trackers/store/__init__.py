"""The trackers' store: every query and write on models, sources, observations, events and review.

Functions take a session and keyword arguments, never commit (the caller owns the transaction) and
apply model visibility themselves, so no public surface can show an unreviewed or rejected model.
Modules outside a store run no SQL (`tests/test_architecture.py`).
"""
