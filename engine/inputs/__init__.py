"""Inputs: image sources (folders, zips, stats files), decoding, checkpoint discovery."""
