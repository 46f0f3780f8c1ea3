"""Export of a run: PDF (reports.pdf), CSV (engine.outputs.report_csv) or JSON (the CLI schema).

Every format is written atomically (engine.atomic): an export that fails (disk full,
permission, a folder in the way) leaves no half file, and the user is told in plain words.
"""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from engine.atomic import write_text
from engine.outputs.paths import input_clash
from engine.outputs.report_csv import write_csv

from .crash import log_exception, show_error

FILTERS = {"pdf": "PDF report (*.pdf)", "csv": "CSV table, one row per source (*.csv)",
           "json": "JSON, same schema as the CLI (*.json)"}


def format_of(path) -> str | None:
    suffix = Path(path).suffix.lower().lstrip(".")
    return suffix if suffix in FILTERS else None


def export(result, path, fmt: str | None = None) -> None:
    """Write ``result`` to ``path`` in ``fmt`` (default: from the suffix). Raises OSError or
    ValueError with a message fit for the user."""
    fmt = fmt or format_of(path)
    clash = input_clash(path, [result.reference.get("path")] + [r.path for r in result.results])
    if clash:
        raise ValueError(f"{clash}: an export must not overwrite or be written among the run's inputs")
    if fmt == "pdf":
        from reports.pdf import write_pdf
        write_pdf(path, result)
    elif fmt == "csv":
        write_csv(path, result)
    elif fmt == "json":
        write_text(path, json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        raise ValueError(f"unknown export format for {Path(path).name}: use .pdf, .csv or .json")


def export_with_message(parent, result, path, fmt: str | None = None) -> bool:
    """Export and report failure in a dialog; True when the file was written."""
    try:
        export(result, path, fmt)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        show_error(parent, "Export failed",
                   f"Could not write {path}:\n{reason}.\nNothing was written; any existing file "
                   "is unchanged.")
        return False
    except Exception as exc:   # a bug: keep the traceback in the log, show a plain message
        show_error(parent, "Export failed", f"Could not write {path}: {exc}", log_exception(exc, "export"))
        return False
    return True


def ask_export_path(parent, start_dir: str, suggested: str) -> tuple[str, str] | None:
    """Save dialog with the three formats; returns (path, format) or None."""
    filters = ";;".join(FILTERS.values())
    path, chosen = QFileDialog.getSaveFileName(parent, "Export run", str(Path(start_dir) / suggested), filters)
    if not path:
        return None
    fmt = format_of(path)
    if fmt is None:
        fmt = next((k for k, v in FILTERS.items() if v == chosen), "pdf")
        path += "." + fmt
    return path, fmt


def suggested_name(result) -> str:
    stamp = result.created[:19].replace(":", "").replace("-", "").replace("T", "-")
    ref = Path(result.reference["path"]).stem or "run"
    return f"fid-studio-{ref}-{stamp}.pdf"
