"""Reference statistics by name: the catalogue of published files, their cache, and the
user's own library (see catalogue.py, store.py, library.py, resolve.py)."""
