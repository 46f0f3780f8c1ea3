"""The ``refs`` command (list, get, import) and named references wherever a reference path is
accepted (``compute NAME GEN``)."""
from __future__ import annotations

import json
import sys

from engine.errors import FidStudioError


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _line(d: dict) -> str:
    size = f"{d['size'] / 1e6:.1f} MB" if d.get("size") else "not downloaded" if d["origin"] == "catalogue" else "?"
    if d["origin"] == "library":
        return (f"{d['name']:44s} own        preset {d.get('preset')}, {d.get('n')} images, {d['kind']}; "
                f"{', '.join(d['supports'])}; {size}")
    res = f"{d['resolution']}px {d['split']}"
    conv = f"suite {d['suite']}" if d.get("suite") else f"preset {d['preset']}"
    what = ", ".join(d["supports"]) or "not for compute"
    return f"{d['name']:44s} {d['tool'][:10]:10s} {d['dataset']} {res}; {conv}; {what}; {size}"


def cmd_refs(args) -> int:
    from engine.refs import store
    from engine.refs.catalogue import get_entry
    if args.refs_command == "list":
        from engine.refs.resolve import listing
        items = listing(_say)
        if args.json:
            print(json.dumps(items, indent=2))
        else:
            for d in items:
                print(_line(d))
        return 0
    if args.refs_command == "import":
        ref = store.import_file(get_entry(args.name), args.file)
        print(json.dumps({"path": str(ref.usable), **ref.provenance}, indent=2))
        return 0
    from engine.refs.resolve import lookup
    found = lookup(args.name, _say)
    if isinstance(found, dict):
        from engine.refs import library
        library.checked_file(found)
        print(json.dumps({"path": found["file"], **found}, indent=2))
        return 0
    if found is None:
        raise FidStudioError(f"no catalogue entry or own reference called {args.name!r} (see `refs list`)")
    from .commands import _download_progress
    ref = store.obtain(found, progress=_download_progress(), say=_say)
    print(json.dumps({"path": str(ref.usable), **ref.provenance}, indent=2))
    return 0


def named_reference(args, opts):
    """(reference path, options): a named reference resolved (downloaded when needed) and its
    convention applied to the options (or refused); a path is returned as it is."""
    from engine.refs.resolve import fit_options, resolve
    from .commands import _download_progress
    res = resolve(args.reference, progress=_download_progress(), say=_say)
    if res is None:
        return args.reference, opts
    opts = fit_options(res, opts, preset_given=args.preset is not None,
                       suite_given=getattr(args, "suite", None) is not None,
                       metrics_given=args.metrics is not None)
    _say(f"reference {res.describe()}: {res.path}; preset {opts.preset}"
         + (f", suite {opts.suite}" if opts.suite else ""))
    return res.path, opts


def add_parser(sub) -> None:
    r = sub.add_parser("refs", help="standard reference statistics by name (clean-fid, ADM, EDM, EDM2) "
                       "and your own named references; FID_STUDIO_REFS_MIRROR=URL downloads from URL/HOST/PATH")
    rsub = r.add_subparsers(dest="refs_command", required=True)
    ls = rsub.add_parser("list", help="the catalogue and your own references")
    ls.add_argument("--json", action="store_true", help="as JSON: dataset, split, resolution, tool, URL...")
    g = rsub.add_parser("get", help="download (or find in the cache), validate and print where it is")
    g.add_argument("name")
    i = rsub.add_parser("import", help="put a file you already have in the cache as a catalogue entry "
                        "(offline); it is validated like a download")
    i.add_argument("name")
    i.add_argument("file")
