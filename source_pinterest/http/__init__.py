"""Talking to Pinterest: OAuth, the per-category request budgets, error classification and backoff, pagination,
each stream's HTTP client, and report-file downloads."""
