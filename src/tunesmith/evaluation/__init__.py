"""Evaluation: musical metrics (pure functions of Notes), set-level comparison, reports."""
