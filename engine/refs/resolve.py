"""A reference by name: catalogue entries and the user's own library, wherever a reference path
is accepted; and the convention each one is valid for.

``resolve(arg)`` gives None when ``arg`` is a path that exists or names nothing (the path
readers then say what they say), else the file to read (downloaded first when needed) with the
preset / suite it belongs to. ``fit_options`` sets that preset (and the ADM suite) when the user
chose none, and refuses — one line naming both conventions — when they chose another.
``check_run`` repeats the refusal at run time for a file that came from a catalogue entry or
the library (the GUI, the Python API, a path typed by hand): a statistic of one convention is
never silently compared with features of another.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, OptionError
from . import library, store
from .catalogue import CATALOGUE, RefEntry


@dataclass
class Resolved:
    name: str
    path: Path
    preset: str
    suite: str | None
    equals: str
    supports: tuple
    not_supported: dict

    def describe(self) -> str:
        return f"{self.name} ({self.equals})"


def lookup(name: str, say=lambda text: None):
    """The RefEntry or library record called ``name``; None when there is none."""
    rec = library.get(name, say) if library.NAME_RE.match(name or "") else None
    if rec is not None:
        return rec
    return CATALOGUE.get(name)


def from_entry(entry: RefEntry, ref: store.CachedRef) -> Resolved:
    if not entry.supports:
        why = "; ".join(f"{what}: {reason}" for what, reason in entry.held)
        raise InputError(f"{entry.name} cannot be the reference of a `compute` run ({why})")
    return Resolved(entry.name, ref.usable, entry.convention.preset, entry.convention.suite,
                    entry.convention.equals, entry.supports, dict(entry.held))


def from_record(rec: dict) -> Resolved:
    preset = rec.get("preset") or "clean"
    return Resolved(rec["name"], library.checked_file(rec), preset, None,
                    f"your reference, preset {preset}, {rec.get('n', '?')} images",
                    tuple(rec.get("supports", ("fid",))), dict(rec.get("not_supported", {})))


def resolve(arg, *, progress=None, cancelled=lambda: False, mirror=None, say=lambda text: None):
    """The named reference ``arg`` (downloaded when needed); None when ``arg`` is not a name."""
    text = str(arg)
    if Path(text).exists():
        return None
    found = lookup(text, say)
    if found is None:
        return None
    if isinstance(found, dict):
        return from_record(found)
    return from_entry(found, store.obtain(found, progress=progress, cancelled=cancelled, mirror=mirror, say=say))


def mismatch(res: Resolved, preset: str, suite: str | None = None) -> str | None:
    """Why a run with ``preset`` (``suite``) cannot use ``res``; None when it can."""
    if preset != res.preset:
        return (f"reference {res.name} holds statistics of {res.equals}, valid with preset {res.preset}; "
                f"this run uses preset {preset}: FID between two conventions means nothing. "
                f"Use --preset {res.preset} (or leave the preset unset: the reference sets it)")
    return None


def fit_options(res: Resolved, opts, *, preset_given: bool, suite_given: bool, metrics_given: bool):
    """``opts`` with the reference's convention; refused (OptionError) when the user chose another."""
    from ..run import suites
    if preset_given or suite_given:
        why = mismatch(res, opts.preset)
        if why:
            raise OptionError(why)
        return opts
    if res.suite and not metrics_given:
        return suites.apply(res.suite, opts)
    return opts.replace(preset=res.preset)


def _record_for(path: Path):
    """The catalogue entry / library record a file in the refs cache or library belongs to."""
    try:
        path = path.resolve()
    except OSError:
        return None
    refs = store.refs_root()
    if refs.exists() and path.parent.parent == refs.resolve():
        return CATALOGUE.get(path.parent.name.replace("__", "/"))
    lib = library.files_dir()
    if lib.exists() and path.parent == lib.resolve():
        return library.get(path.stem)
    return None


def check_run(ref_path, opts) -> None:
    """Refuse a run whose preset differs from the convention of its reference, when that
    reference is a catalogue file or a library file (InputError, one line)."""
    found = _record_for(Path(ref_path))
    if found is None:
        return
    if isinstance(found, dict):
        res = Resolved(found["name"], Path(ref_path), found.get("preset") or "clean", None,
                       f"your reference, preset {found.get('preset') or 'clean'}", (), {})
    else:
        res = Resolved(found.name, Path(ref_path), found.convention.preset, found.convention.suite,
                       found.convention.equals, found.supports, dict(found.held))
    why = mismatch(res, opts.preset)
    if why:
        raise InputError(why)


def listing(say=lambda text: None) -> list:
    """Every catalogue entry and own reference, as dicts (``refs list --json``)."""
    import json
    out = []
    for entry in CATALOGUE.values():
        d = {"origin": "catalogue", **entry.to_dict()}
        prov = store.entry_folder(entry) / store.PROVENANCE
        try:
            cached = json.loads(prov.read_text(encoding="utf-8")) if prov.is_file() else None
        except (OSError, ValueError):
            cached = None
        d["cached"] = None if not cached else {k: cached.get(k) for k in ("sha256", "size", "time", "source")}
        d["size"] = cached.get("size") if cached else None
        out.append(d)
    for name, rec in sorted(library.load(say).items()):
        out.append({"origin": "library", **rec, "name": name, "tool": "FID Studio", "dataset": rec.get("source_path"),
                    "equals": f"preset {rec.get('preset')}", "n_images": rec.get("n")})
    return out
