"""Where an output may go: never onto an input, never inside an input folder.

The rule, checked before any work: an output path (``--json``, ``--csv``, ``--pdf``,
``--per-image``, ``stats -o``, ``model build --out``, a GUI export) is refused when it is the
same file as an input (the path itself, through a symbolic link, or a hard link to it:
``os.path.samefile``) or lies inside an input folder (the folder or any folder above the output
is that input folder, compared the same way, so links and case-insensitive names count).
A hard link to a file inside an input folder is also refused. Inputs that do not exist are
left to the readers, which say so themselves.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..atomic import check_writable
from ..errors import FidStudioError

STDOUT = "-"


def _same(a, b) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _ancestors(path: Path):
    """``path`` (resolved, links followed) and every folder above it that exists."""
    p = Path(os.path.realpath(path))
    for q in (p, *p.parents):
        if q.exists():
            yield q


def _hardlinked_into(out: Path, folder: Path) -> Path | None:
    """A file under ``folder`` that is the same file as ``out`` (only looked for when ``out``
    has more than one link, so the walk is rare)."""
    try:
        st = os.stat(out)
    except OSError:
        return None
    if st.st_nlink < 2:
        return None
    for root, _dirs, files in os.walk(folder):
        for f in files:
            try:
                other = os.stat(os.path.join(root, f))
            except OSError:
                continue
            if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
                return Path(root) / f
    return None


def input_clash(output, inputs) -> str | None:
    """Why ``output`` would overwrite or land among ``inputs`` (None when it is safe)."""
    out = Path(output)
    for given in inputs:
        if given is None or str(given) == "":
            continue
        inp = Path(given)
        if not inp.exists():
            continue
        if inp.is_dir():
            if any(_same(a, inp) for a in _ancestors(out)):
                return f"{output} lies inside the input folder {given}"
            linked = _hardlinked_into(out, inp) if out.exists() else None
            if linked is not None:
                return f"{output} is a hard link to the input file {linked}"
        elif out.exists() and _same(out, inp):
            return f"{output} is the input file {given}"
    return None


def check_outputs(outputs, inputs=(), *, stdout_ok=()) -> None:
    """Refuse, before any work, outputs that cannot be written or would hit an input.

    outputs: (option name, path or None) pairs; inputs: paths read by the run; stdout_ok: the
    option names for which ``-`` means standard output (it is then not a file)."""
    seen = {}
    for option, p in outputs:
        if p is None:
            continue
        if str(p) == STDOUT:
            if option in stdout_ok:
                continue
            raise FidStudioError(f"{option} -: standard output carries the JSON result; give {option} "
                                 "a file name (./- for a file named '-')")
        key = os.path.realpath(p)
        if key in seen:
            raise FidStudioError(f"{p} is given for two outputs ({seen[key]} and {option})")
        seen[key] = option
        clash = input_clash(p, inputs)
        if clash:
            raise FidStudioError(f"{option} {clash}: an output must not overwrite or be written among "
                                 "the inputs; choose another path")
        why = check_writable(p)
        if why:
            raise FidStudioError(f"output not writable: {why}")
