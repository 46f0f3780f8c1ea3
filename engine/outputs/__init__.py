"""Outputs: CSV reports and the run history database."""
