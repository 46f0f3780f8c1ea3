"""Reports of a finished run, shared by the command line (``compute --pdf``) and the window.

The PDF report (reports.pdf) with its charts (reports.charts) and sample pages
(reports.samples_pages), and the pure formatting the window shows too: the results columns
(reports.result_format), GAN-train / GAN-test lines (reports.class_format), the plots' data
(reports.plot_data) and colours (reports.plot_colors).

Layering: this package sits above engine/ and below gui/ and cli/. It may use Qt's
painting classes (QtGui: a QGuiApplication, no widgets) but never imports gui/ or
pyqtgraph, so the command line can write a report without the desktop app.
"""
