"""A library of the user's own references: stats files saved under a name, with provenance.

``stats SOURCE -o FILE --name NAME`` (and the GUI's "Save as reference…") write FILE and
register it: the file is linked (a hard link where the file system allows, else copied) into
``<data dir>/references/library/<NAME>.npz`` and recorded in the registry
``<data dir>/references/library.json`` — a small JSON index, written atomically. The stats file
itself carries its provenance as arrays (preset, model_sha256, files_sha256, n, precision,
and ``reference_name`` / ``source_path``), so a damaged registry is moved aside and rebuilt
from the library's files. Reuse by name reads the file only: no image is decoded.

A stats file holds moments (mean and covariance; mergeable shards) and, written with
``--cmmd``, CMMD's embeddings; the metrics that need the reference's images or per-image
features (KID, precision/recall, per-image scores, GAN-train/test) are listed as not supported.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np

from ..atomic import atomic_path, write_text
from ..errors import InputError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,79}$")
NEEDS_IMAGES = ("kid", "pr", "gan-train", "gan-test", "fd_dinov2", "clip_fid", "per-image scores")
MOMENTS_ONLY = "a stats file holds mean and covariance only, not the reference's images or per-image features"


def root() -> Path:
    from models.paths import user_data_dir
    return user_data_dir() / "references"


def registry_path() -> Path:
    return root() / "library.json"


def files_dir() -> Path:
    return root() / "library"


def check_name(name: str) -> str:
    from .catalogue import CATALOGUE
    if name in CATALOGUE:
        raise InputError(f"reference name {name!r} is a catalogue entry's; choose another")
    if not NAME_RE.match(name or ""):
        raise InputError(f"reference name {name!r}: use 1-80 letters, digits, '.', '_', '+' or '-', "
                         "starting with a letter or digit")
    return name


def _small(path: Path) -> dict:
    """The provenance arrays and members of a stats file (the big arrays are not loaded)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            names = set(z.files)
            out = {k: str(z[k]) for k in ("preset", "model_sha256", "files_sha256", "precision",
                                          "reference_name", "source_path", "cmmd_model_sha256") if k in names}
            if "n" in names:
                out["n"] = int(z["n"])
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"cannot read stats file {path.name}: {str(exc) or type(exc).__name__}") from None
    if "mu" not in names or "sigma" not in names:
        raise InputError(f"{path.name} is not a stats file (no mu/sigma)")
    out["members"] = sorted(names)
    return out


def supports_of(members) -> tuple:
    out = ["fid"]
    if "mu_s" in members and "sigma_s" in members:
        out.append("sfid")
    if "cmmd_embeddings" in members:
        out.append("cmmd")
    return tuple(out)


def record_of(path: Path, created: str | None = None) -> dict:
    from models.common.files import sha256_file
    info = _small(path)
    members = info.pop("members")
    kind = "moments + CMMD embeddings" if "cmmd_embeddings" in members else "moments"
    return {"name": info.get("reference_name", path.stem), "file": str(path), "sha256": sha256_file(path),
            "size": path.stat().st_size, "kind": kind, "supports": list(supports_of(members)),
            "not_supported": {m: MOMENTS_ONLY for m in NEEDS_IMAGES},
            "space": "inception", "created": created or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **info}


def _rebuild(say) -> dict:
    reg = {}
    for p in sorted(files_dir().glob("*.npz")) if files_dir().is_dir() else []:
        try:
            rec = record_of(p)
        except InputError as exc:
            say(f"library: {p.name} skipped ({exc})")
            continue
        reg[rec["name"]] = rec
    if reg or registry_path().exists():
        write_text(registry_path(), json.dumps(reg, indent=1, sort_keys=True) + "\n")
    return reg


def load(say=lambda text: None) -> dict:
    """{name: record}; a damaged registry is moved aside and rebuilt from the files present."""
    path = registry_path()
    if not path.exists():
        return _rebuild(say) if files_dir().is_dir() else {}
    try:
        reg = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(reg, dict) or not all(isinstance(v, dict) and "file" in v for v in reg.values()):
            raise ValueError("not a registry of references")
        return reg
    except (OSError, ValueError) as exc:
        aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(path, aside)
        say(f"the reference library's registry was damaged ({exc}); moved aside to {aside.name} and "
            "rebuilt from the library's files")
        return _rebuild(say)


def _link_or_copy(src: Path, dest: Path) -> None:
    with atomic_path(dest) as tmp:
        try:
            os.unlink(tmp)
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)


def register(name: str, stats_path, say=lambda text: None) -> dict:
    """Save the stats file ``stats_path`` in the library as ``name`` (replacing one of that name)."""
    check_name(name)
    src = Path(stats_path)
    info = _small(src)
    if info.get("reference_name") not in (None, name):
        raise InputError(f"{src.name} was written as reference {info['reference_name']!r}, not {name!r}")
    dest = files_dir() / f"{name}.npz"
    _link_or_copy(src, dest)
    rec = record_of(dest)
    rec.update(name=name, output=str(src.resolve()))
    reg = load(say)
    reg[name] = rec
    write_text(registry_path(), json.dumps(reg, indent=1, sort_keys=True) + "\n")
    return rec


def get(name: str, say=lambda text: None) -> dict | None:
    return load(say).get(name)


def checked_file(rec: dict) -> Path:
    """The library file of ``rec``, refused (one line) when missing or changed since it was saved."""
    from models.common.files import sha256_file
    path = Path(rec["file"])
    if not path.is_file():
        raise InputError(f"reference {rec['name']!r}: its file {path} is gone; save it again "
                         "(`stats SOURCE -o FILE --name NAME`)")
    sha = sha256_file(path)
    if sha != rec.get("sha256"):
        raise InputError(f"reference {rec['name']!r}: {path.name} has SHA-256 {sha}, {rec.get('sha256')} "
                         "when it was saved: the file changed, refused")
    return path


def provenance_arrays(name: str, source) -> dict:
    """The arrays ``stats --name`` adds to the file it writes."""
    return {"reference_name": np.str_(check_name(name)), "source_path": np.str_(str(Path(source).resolve()))}
