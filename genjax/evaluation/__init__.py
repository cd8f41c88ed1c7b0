"""Evaluation metrics: likelihood bounds, sample quality, representation probes."""
