"""`fid-studio --selftest`: prove that this installation works, headless, in a few seconds.

It loads the model, scores the small images shipped for this purpose (FID and SSIM), writes
a PDF and a CSV report to a temporary folder, reads both back and checks them, then prints a
short report. Exit status: 0 passed, 1 a check failed, 2 the installation is incomplete
(model, images or a library missing). Works from source (`python main.py --selftest`) and
inside the PyInstaller bundle (`fid-studio --selftest`).
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import re
import sys
import tempfile
import time
import zlib
from pathlib import Path

# Values for the shipped images with the `clean` preset (CPU, engine of 2026-11-25, model built by
# `python main.py model build`). SSIM is plain numpy, so it is tight; FID goes through the
# network, whose float32 kernels differ a little between CPUs and more on CUDA (TF32), and
# 8 images give an ill-conditioned covariance, so it gets a looser, device-dependent band.
EXPECTED_FID = 227.1070868819225
EXPECTED_SSIM = 0.7785385827854023
FID_RTOL = {"cpu": 1e-3, "cuda": 2e-2}
SSIM_RTOL = 1e-6
N_PAIRS = 8


class SelftestError(Exception):
    """A check failed; ``code`` is the exit status (1 wrong result, 2 broken installation)."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def images_dir() -> Path:
    """The shipped images: <bundle>/selftest_images when frozen, packaging/selftest_images from source."""
    bundle = getattr(sys, "_MEIPASS", None)
    candidates = [Path(bundle) / "selftest_images"] if bundle else []
    candidates.append(Path(__file__).resolve().parent / "packaging" / "selftest_images")
    for c in candidates:
        if (c / "reference").is_dir() and (c / "generated").is_dir():
            return c
    raise SelftestError("self-test images not found (looked in "
                        + ", ".join(str(c) for c in candidates) + "); the installation is incomplete", 2)


# --- PDF text, enough for Qt's PDF writer: Flate streams, Identity-H fonts with ToUnicode ---

_OBJ = re.compile(rb"(\d+)\s+0\s+obj\b(.*?)\bendobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\n?endstream", re.S)
_TOKEN = re.compile(rb"<([0-9A-Fa-f\s]*)>|\((?:\\.|[^\\)])*\)|/[^\s/<>\[\]()]+|\[|\]|[^\s/<>\[\]()]+", re.S)


def _hex_units(hexstr: bytes) -> list[int]:
    h = re.sub(rb"\s", b"", hexstr)
    return [int(h[i:i + 4], 16) for i in range(0, len(h) - 3, 4)]


def _parse_cmap(text: bytes) -> dict[int, str]:
    out: dict[int, str] = {}
    chars = lambda h: "".join(chr(u) for u in _hex_units(h))  # noqa: E731
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(src, 16)] = chars(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(\[[^\]]*\]|<[0-9A-Fa-f]+>)", block):
            lo, hi = int(lo, 16), int(hi, 16)
            if dst.startswith(b"["):
                for k, h in enumerate(re.findall(rb"<([0-9A-Fa-f]+)>", dst)):
                    out[lo + k] = chars(h)
            else:
                start = _hex_units(dst[1:-1])
                for k in range(hi - lo + 1):
                    out[lo + k] = "".join(chr(u) for u in start[:-1]) + chr(start[-1] + k)
    return out


def pdf_text(data: bytes) -> str:
    """All text drawn in a PDF, one line per text object (BT..ET), whitespace collapsed."""
    objects, streams = {}, {}
    for num, body in _OBJ.findall(data):
        objects[int(num)] = body
        m = _STREAM.search(body)
        if m:
            raw = m.group(1)
            if b"/FlateDecode" in body[:m.start()]:
                try:
                    raw = zlib.decompress(raw)
                except zlib.error:
                    continue
            streams[int(num)] = raw
    cmaps = {n: _parse_cmap(s) for n, s in streams.items() if b"begincmap" in s}
    font_cmap = {n: cmaps.get(int(m.group(1)), {}) for n, body in objects.items()
                 for m in [re.search(rb"/ToUnicode\s+(\d+)\s+0\s+R", body)] if m}
    names = {name: font_cmap[int(ref)] for name, ref in re.findall(rb"/([\w.+-]+)\s+(\d+)\s+0\s+R", data)
             if int(ref) in font_cmap}
    lines = []
    for s in streams.values():
        if b"BT" not in s or b"begincmap" in s:
            continue
        cmap, pending, line, prev = {}, [], [], [b"", b""]
        for tok in _TOKEN.finditer(s):
            t = tok.group(0)
            if t.startswith(b"<"):
                pending.append("".join(cmap.get(u, "") for u in _hex_units(tok.group(1))))
            elif t.startswith(b"("):
                pending.append(t[1:-1].decode("latin-1"))
            elif t == b"Tf":                      # /F11 150 Tf
                cmap = names.get(prev[-2].lstrip(b"/"), {})
            elif t in (b"Tj", b"TJ", b"'", b'"'):
                line.extend(pending)
                pending = []
            elif t == b"ET":
                lines.append(" ".join("".join(line).split()))
                line = []
            prev = [prev[-1], t]
    return "\n".join(x for x in lines if x)


def number_forms(value: float) -> set[str]:
    """The ways a report may print a number: 2..8 decimals, or 4..10 significant digits."""
    return {f"{value:.{d}f}" for d in range(2, 9)} | {f"{value:.{p}g}" for p in range(4, 11)}


# --- the checks ---

def _check_qt() -> str:
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QImageReader
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "fid-studio"])
    formats = {bytes(f).decode() for f in QImageReader.supportedImageFormats()}
    missing = {"png", "jpeg"} - formats
    if missing:
        raise SelftestError(f"Qt image format plugins missing: {', '.join(sorted(missing))}", 2)
    QCoreApplication.processEvents()
    return f"Qt {app.platformName()} platform, image formats {', '.join(sorted(formats & {'png', 'jpeg', 'svg', 'ico'}))}"


def _close(actual: float, expected: float, rtol: float) -> bool:
    return math.isfinite(actual) and abs(actual - expected) <= rtol * abs(expected)


def run_checks(out_dir: Path, device: str, log) -> None:
    t0 = time.perf_counter()
    from engine import APP_NAME, __version__
    log(f"{APP_NAME} {__version__} self-test ({'bundle ' + sys._MEIPASS if getattr(sys, 'frozen', False) else 'from source'})")
    try:
        import gui.app  # noqa: F401  (the desktop app's modules are all present)
        from reports.pdf import write_pdf
    except ImportError as exc:
        raise SelftestError(f"the desktop app's modules cannot be imported: {exc}", 2) from None
    log(_check_qt())

    import models
    from engine.errors import FidStudioError
    from engine.run.job import run
    from engine.run.options import Options
    from engine.outputs.report_csv import write_csv

    model_path = models.find_model()
    if model_path is None:
        raise SelftestError("the Inception model was not found; looked in: "
                            + ", ".join(str(p) for p in models.model_search_paths()), 2)
    images = images_dir()
    opts = Options(metrics=("fid", "ssim"), preset="clean", device=device, batch_size=8, seed=0)
    try:
        result = run(images / "reference", [images / "generated"], opts,
                     model_path=model_path, cache_root=out_dir / "cache")
    except FidStudioError as exc:
        raise SelftestError(f"the evaluation failed: {exc}", 2) from None
    log(result.device_line)
    log(f"model {model_path} (sha256 {result.model['sha256'][:12]}...)")
    res = result.results[0]
    fid, ssim = res.metrics.get("fid"), res.metrics.get("ssim")
    if res.n_images != N_PAIRS or res.metrics.get("n_pairs") != N_PAIRS or res.skipped:
        raise SelftestError(f"expected {N_PAIRS} images and pairs, got {res.n_images} images, "
                            f"{res.metrics.get('n_pairs')} pairs, {len(res.skipped)} skipped")
    if fid is None or not math.isfinite(fid):
        raise SelftestError(f"FID is not a finite number: {fid!r}")
    rtol = FID_RTOL.get(result.device, FID_RTOL["cpu"])
    if not _close(fid, EXPECTED_FID, rtol):
        raise SelftestError(f"FID {fid:.6f} differs from the expected {EXPECTED_FID:.6f} by more than "
                            f"{rtol:.0e} (relative) on {result.device}: the numerics of this build are off")
    if ssim is None or not _close(ssim, EXPECTED_SSIM, SSIM_RTOL):
        raise SelftestError(f"SSIM {ssim!r} differs from the expected {EXPECTED_SSIM:.10f}")
    log(f"FID {fid:.4f} (expected {EXPECTED_FID:.4f}), SSIM {ssim:.6f} (expected {EXPECTED_SSIM:.6f}) "
        f"on {N_PAIRS} pairs in {result.duration_s:.1f} s")

    csv_path = out_dir / "selftest.csv"
    write_csv(csv_path, result)
    with open(csv_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if len(rows) != 1:
        raise SelftestError(f"CSV report {csv_path}: expected 1 row, found {len(rows)}")
    for key, want in (("fid", fid), ("ssim", ssim)):
        got = rows[0].get(key)
        if got is None or float(got) != want:
            raise SelftestError(f"CSV report: column {key!r} reads back as {got!r}, expected {want!r}")
    log(f"CSV report OK ({csv_path.stat().st_size} bytes, numbers read back exactly)")

    pdf_path = out_dir / "selftest.pdf"
    write_pdf(pdf_path, result)
    data = pdf_path.read_bytes()
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-64:]:
        raise SelftestError(f"PDF report {pdf_path} is not a complete PDF file ({len(data)} bytes)")
    text = pdf_text(data)
    for label, value in (("FID", fid), ("SSIM", ssim)):
        if label not in text:
            raise SelftestError(f"PDF report: the text {label!r} was not found; extracted text starts: {text[:200]!r}")
        if not any(form in text for form in number_forms(value)):
            raise SelftestError(f"PDF report: the {label} value {value:.6f} is not printed in it "
                                f"(no rounding of it found); extracted text starts: {text[:200]!r}")
    log(f"PDF report OK ({len(data)} bytes, {len(text.split())} words of text, FID and SSIM values found)")
    log(f"self-test passed in {time.perf_counter() - t0:.1f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="fid-studio --selftest",
                                     description="Check this installation headless: model, FID, SSIM, PDF and CSV.")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="auto: CUDA if usable; cuda: fail unless CUDA runs")
    parser.add_argument("--keep", type=Path, help="write the reports into this folder and keep them")
    args = parser.parse_args(argv)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    def log(line: str) -> None:
        print(line, flush=True)

    try:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            run_checks(args.keep, args.device, log)
        else:
            with tempfile.TemporaryDirectory(prefix="fid-studio-selftest-") as tmp:
                run_checks(Path(tmp), args.device, log)
    except SelftestError as exc:
        print(f"SELFTEST FAILED: {exc}", file=sys.stderr, flush=True)
        return exc.code
    except Exception as exc:  # anything unexpected is a failure too, said plainly
        import traceback
        traceback.print_exc()
        print(f"SELFTEST FAILED: unexpected {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
