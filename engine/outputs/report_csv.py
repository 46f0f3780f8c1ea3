"""CSV export: one row per generated source, one column per metric (plus provenance)."""
from __future__ import annotations

import csv
import io

from ..atomic import write_text
from ..metrics import RESULT_KEYS

COLUMNS = ("source", "n_images", "skipped") + RESULT_KEYS + ("preset", "model_sha256", "device", "seed", "warnings")


def to_csv_text(result) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in result.results:
        d = r.to_dict()
        w.writerow([r.path, r.n_images, len(r.skipped)]
                   + ["" if d["metrics"][k] is None else repr(d["metrics"][k]) for k in RESULT_KEYS]
                   + [result.preset, (result.model or {}).get("sha256", ""), result.device, result.seed,
                      " | ".join(r.warnings)])
    return buf.getvalue()


def write_csv(path, result) -> None:
    write_text(path, to_csv_text(result))
