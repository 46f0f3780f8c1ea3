"""Runs: options, events, the job that turns sources into results, paired and class-aware scoring."""
