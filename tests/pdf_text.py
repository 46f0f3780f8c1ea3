"""Reads a PDF report back as a user's viewer would: page count and the text of a page, with
pypdf (pure Python, from PyPI), so the report tests need no system tools."""
from __future__ import annotations

from pypdf import PdfReader


def page_count(path) -> int:
    return len(PdfReader(str(path)).pages)


def _text(page) -> str:
    # pypdf separates the words Qt placed one by one with tabs: read them as spaces
    return page.extract_text(extraction_mode="layout").replace("\t", " ")


def page_text(path, page: int) -> str:
    """The text of page ``page`` (numbered from 1), laid out in reading order."""
    return _text(PdfReader(str(path)).pages[page - 1])


def pdf_text(path) -> str:
    """The text of every page, pages separated by form feeds (as pdftotext writes them)."""
    return "\f".join(_text(p) for p in PdfReader(str(path)).pages)
