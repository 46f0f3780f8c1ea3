"""The PDF report, built with Qt (QTextDocument laid out on a QPdfWriter): text stays
selectable and no extra dependency is needed.

``write_pdf(path, result, plots=None)`` works without any window: it creates a
QGuiApplication on demand (offscreen unless a platform is set), which is what the CLI's
``--pdf`` uses. Pages: 1) title, metrics table, GAN-train / GAN-test details when asked for
(method, validation split, flags, per-class table), settings and provenance; 2…) the plots, two
per page; then a page per generated source with per-image scores (reports.samples_pages: the
12 least realistic samples and the possible copies beside their nearest real images); last)
skipped files and warnings. The file is written atomically: a failed export leaves no
half file. Returns the number of pages.
"""
from __future__ import annotations

import html
import os

from engine import APP_NAME, __version__
from engine.atomic import atomic_path

from . import class_format as cf
from .result_format import (DASH, best_index, cell, columns_for, format_created, percent, settings_rows,
                            short_name)

FILES_PER_REASON = 5           # per source and reason, in the skipped-files section
CHARTS_PER_PAGE = 2
COLUMN_GROUPS = (("fid", "fid_ci", "fid_inf", "sfid"), ("fd_dinov2", "clip_fid", "cmmd"), ("kid", "is"), ("precision", "recall", "density", "coverage"),
                 ("ssim", "mse", "psnr", "n_pairs"), ("gan_train", "gan_test", "real_baseline"))
COLUMN_GROUPS += (("clip_score",),)
_app = None

CSS = """
body { color: #222; }
h1 { font-size: 18pt; margin-bottom: 2px; }
h2 { font-size: 12.5pt; margin-top: 14px; margin-bottom: 6px; color: #0b3d66; }
h3 { font-size: 10pt; margin-top: 10px; margin-bottom: 4px; }
p.sub { color: #666; margin-top: 0px; }
table.grid { border-collapse: collapse; }
table.grid th { background: #e8eef4; font-weight: bold; padding: 3px 6px; text-align: left; }
th.num { text-align: right; }
table.grid td { padding: 3px 6px; }
td.num { text-align: right; }
tr.best td { background: #e6f2e6; font-weight: bold; }
td.key { color: #555; padding-right: 10px; }
p.note { color: #555; font-size: 8pt; }
p.flag { color: #9a6700; }
"""


def ensure_gui_app():
    """A QGuiApplication for fonts and painting; offscreen when none exists yet."""
    global _app
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtCore import QCoreApplication
    app = QCoreApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _app = QGuiApplication(["fid-studio-report"])
        return _app
    if not isinstance(app, QGuiApplication):
        raise RuntimeError("the PDF report needs a QGuiApplication, but a QCoreApplication exists")
    return app


def _e(text) -> str:
    return html.escape(str(text))


def metrics_tables(result) -> str:
    cols = columns_for(result, with_warnings=False)
    fixed = [c for c in cols if c.key in ("source", "n_images", "skipped")]
    best = best_index(result) if len(result.results) > 1 else None
    parts = []
    for group in COLUMN_GROUPS:
        metric_cols = [c for c in cols if c.key in group]
        if not metric_cols:
            continue
        shown = fixed + metric_cols
        rows = ["<tr>" + "".join(f"<th{'' if c.key == 'source' else ' class=num'}>{_e(c.header)}</th>"
                                 for c in shown) + "</tr>"]
        for i, r in enumerate(result.results):
            tds = []
            for c in shown:
                text = cell(c, r)[0]
                cls = "" if c.key == "source" else ' class="num"'
                tds.append(f"<td{cls}>{_e(text)}</td>")
            mark = ' class="best"' if i == best else ""
            rows.append(f"<tr{mark}>" + "".join(tds) + "</tr>")
        parts.append('<table class="grid" border="1" cellspacing="0" cellpadding="3" width="100%">'
                     + "".join(rows) + "</table><p></p>")
    if best is not None:
        parts.append(f'<p class="note">Highlighted: lowest FID ({_e(short_name(result.results[best].path))}). '
                     f"{DASH} = not computed; the reason is listed under Warnings.</p>")
    return "".join(parts)


def class_section(result) -> str:
    """GAN-train / GAN-test: the method (a linear probe), the validation split, memorisation
    flags and the accuracies per class; empty when the run has none."""
    if not cf.has_class_results(result):
        return ""
    parts = ["<h2>GAN-train / GAN-test (linear probe)</h2>"]
    method = cf.method_line(result)
    if method:
        parts.append(f"<p><b>Method:</b> {_e(method)}</p>")
    notes = [t for t in (cf.split_line(result), cf.chance_line(result)) if t]
    if notes:
        parts.append(f"<p>{'<br>'.join(_e(t) for t in notes)}</p>")
    for line in cf.memorisation_lines(result):
        parts.append(f'<p class="flag">Possible memorisation — {_e(line)}</p>')
    for line in cf.not_computed_lines(result):
        parts.append(f'<p class="flag">Not computed — {_e(line)}</p>')
    columns = cf.per_class_columns(result)
    several = len(result.results) > 1
    head = (["Source"] if several else []) + ["Class"]
    rows = ["<tr>" + "".join(f"<th>{h}</th>" for h in head)
            + "".join(f"<th class=num>{_e(h)}</th>" for _, h in columns) + "</tr>"]
    for src, name, values in cf.per_class_rows(result):
        tds = ([f"<td>{_e(short_name(result.results[src].path))}</td>"] if several else []) + [f"<td>{_e(name)}</td>"]
        tds += [f'<td class="num">{_e(percent(values.get(key)))}</td>' for key, _ in columns]
        rows.append("<tr>" + "".join(tds) + "</tr>")
    parts.append("<h3>Accuracy per class</h3>"
                 '<table class="grid" border="1" cellspacing="0" cellpadding="3">' + "".join(rows) + "</table>")
    if "gan-train" in cf.chosen_metrics(result) and cf.sweep_curves(result):
        parts.append('<p class="note">The diversity sweep (GAN-train accuracy against the number of generated '
                     "images per class, next to the same curve for real training images) is among the plots.</p>")
    return "".join(parts)


def settings_table(result) -> str:
    rows = "".join(f'<tr><td class="key">{_e(k)}</td><td>{_e(v)}</td></tr>' for k, v in settings_rows(result))
    return f'<table cellspacing="0" cellpadding="2">{rows}</table>'


def _files_table(files_by_reason: dict) -> str:
    rows = []
    for reason, files in files_by_reason.items():
        for f in files[:FILES_PER_REASON]:
            rows.append(f"<tr><td>{_e(f)}</td><td>{_e(reason)}</td></tr>")
        if len(files) > FILES_PER_REASON:
            rows.append(f"<tr><td><i>… and {len(files) - FILES_PER_REASON:,} more</i></td>"
                        f"<td>{_e(reason)}</td></tr>")
    return ('<table class="grid" border="1" cellspacing="0" cellpadding="2" width="100%">'
            f"<tr><th>File</th><th>Reason</th></tr>{''.join(rows)}</table>")


def _by_reason(records) -> dict:
    out: dict = {}
    for s in records:
        out.setdefault(s["reason"], []).append(s["file"])
    return out


def problems_section(result) -> str:
    """Per source: warnings, skipped files grouped by reason (a few names each), and
    names without a partner for the paired metrics, summarised."""
    out = []
    sources = [("Reference: " + short_name(result.reference["path"]), result.reference.get("skipped", []), [], [])]
    sources += [(short_name(r.path), r.skipped, r.extras.get("pair_problems", []), r.warnings)
                for r in result.results]
    for name, skipped, unpaired, warnings in sources:
        if not skipped and not warnings and not unpaired:
            continue
        out.append(f"<h3>{_e(name)}</h3>")
        if warnings:
            out.append("<ul>" + "".join(f"<li>{_e(w)}</li>" for w in warnings) + "</ul>")
        if skipped:
            out.append(f"<p>{len(skipped):,} file(s) skipped (not scored):</p>")
            out.append(_files_table(_by_reason(skipped)))
        if unpaired:
            lines = []
            for reason, files in _by_reason(unpaired).items():
                shown = ", ".join(files[:3]) + (", …" if len(files) > 3 else "")
                lines.append(f"<li>{len(files):,} × {_e(reason)} (e.g. {_e(shown)})</li>")
            out.append("<p>Not used by the paired metrics (SSIM / MSE / PSNR):</p><ul>" + "".join(lines) + "</ul>")
    if not out:
        out.append("<p>No file was skipped and the engine reported no warning.</p>")
    out.append('<p class="note">Every skipped file is listed in the JSON export and kept in the run history.</p>')
    return "".join(out)


def report_html(result, chart_names: list, image_width: int, samples_html: str = "") -> str:
    status = "" if result.status == "finished" else f" — {result.status.upper()}"
    parts = [f"<h1>{_e(APP_NAME)} report{_e(status)}</h1>",
             f'<p class="sub">{_e(format_created(result.created))} · {_e(len(result.results))} generated source(s) '
             f"against {_e(short_name(result.reference['path']))} · preset {_e(result.preset)}</p>",
             "<h2>Results</h2>", metrics_tables(result), class_section(result),
             "<h2>Settings and provenance</h2>", settings_table(result)]
    for i, title in enumerate(chart_names):
        if i % CHARTS_PER_PAGE == 0:       # a fixed number per page: a predictable layout
            heading = "Plots" if i == 0 else "Plots (continued)"
            parts.append(f'<h2 style="page-break-before: always">{heading}</h2>')
        parts.append(f'<p><img src="chart{i}.png" width="{image_width}" '
                     f'height="{int(image_width * 0.45)}" alt="{_e(title)}"></p>')
    parts.append(samples_html)
    parts.append('<h2 style="page-break-before: always">Skipped files and warnings</h2>')
    parts.append(problems_section(result))
    return "<html><body>" + "".join(parts) + "</body></html>"


def _as_qimage(img):
    from PySide6.QtGui import QImage
    if isinstance(img, QImage):
        return img
    q = QImage()
    if isinstance(img, (bytes, bytearray)):
        q.loadFromData(bytes(img))
    else:
        q.load(str(img))
    return q


def write_pdf(path, result, plots=None) -> int:
    """Write the report of ``result`` to ``path`` (atomically); returns the page count.

    ``plots``: optional [(title, QImage | PNG bytes | image path)] to use instead of the
    charts drawn from the result's own data.
    """
    ensure_gui_app()
    from .charts import charts_for
    charts = charts_for(result) if plots is None else [(t, _as_qimage(i)) for t, i in plots]
    with atomic_path(path) as tmp:
        return _render(str(tmp), result, charts)


def _render(path: str, result, charts) -> int:
    from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt, QUrl
    from PySide6.QtGui import QFont, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument
    dpi = 300
    writer = QPdfWriter(path)
    writer.setResolution(dpi)
    writer.setTitle(f"{APP_NAME} report")
    writer.setCreator(f"{APP_NAME} {__version__}")
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(16, 14, 16, 12), QPageLayout.Unit.Millimeter)
    area = writer.pageLayout().paintRectPixels(dpi)
    # The document is laid out in 96-dpi units (as on screen, so point sizes and image
    # widths mean what they say) and the painter scales it up to the writer's resolution.
    scale = dpi / 96.0
    footer_h = 22.0
    page_w, page_h = area.width() / scale, area.height() / scale - footer_h
    doc = QTextDocument()
    # Lay out against a 96-dpi reference device: the default would be the screen's DPI,
    # which differs between platforms (offscreen says 72), and would change the layout.
    ref_device = QImage(1, 1, QImage.Format.Format_RGB32)
    ref_device.setDotsPerMeterX(round(96 / 0.0254))
    ref_device.setDotsPerMeterY(round(96 / 0.0254))
    doc.documentLayout().setPaintDevice(ref_device)
    font = QFont()
    font.setPointSizeF(9)
    # No ligatures: text copied out of the PDF (or searched) must read "files", not "ﬁles".
    font.setFeature(QFont.Tag("liga"), 0)
    doc.setDefaultFont(font)
    doc.setDefaultStyleSheet(CSS)
    doc.setDocumentMargin(0)
    for i, (_, img) in enumerate(charts):
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"chart{i}.png"), img)
    from .samples_pages import samples_section
    samples_html, sample_images = samples_section(result, int(page_w))
    for name, img in sample_images:
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), img)
    doc.setHtml(report_html(result, [t for t, _ in charts], int(page_w), samples_html))
    doc.setPageSize(QSizeF(page_w, page_h))
    pages = doc.pageCount()
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"cannot write PDF to {path}")
    small = QFont(font)
    small.setPixelSize(10)          # 96-dpi units, like the document
    try:
        painter.scale(scale, scale)
        for i in range(pages):
            if i:
                writer.newPage()
            painter.save()
            painter.translate(0, -i * page_h)
            doc.drawContents(painter, QRectF(0, i * page_h, page_w, page_h))
            painter.restore()
            painter.setFont(small)
            painter.setPen(Qt.GlobalColor.darkGray)
            painter.drawText(QRectF(0, page_h, page_w, footer_h),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                             f"{APP_NAME} {__version__} · {format_created(result.created)} · page {i + 1} of {pages}")
    finally:
        painter.end()
    return pages
