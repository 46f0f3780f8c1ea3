"""Entry point of the desktop app: ``python main.py`` with no arguments calls ``main()``."""
from __future__ import annotations

import sys

from engine import APP_ID, APP_NAME, __version__


def create_app(argv=None):
    """The QApplication (reused if one exists), named so QSettings and logs find their place."""
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_ID)
    app.setApplicationVersion(__version__)
    return app


def main(argv=None) -> int:
    from .crash import install_excepthook, log, log_exception, show_error
    app = create_app(argv)
    install_excepthook()
    log.info("%s %s starting", APP_NAME, __version__)
    try:
        from .main_window import MainWindow
        window = MainWindow()
    except Exception as exc:   # e.g. the history database cannot be opened
        path = log_exception(exc, "startup")
        box = show_error(None, f"{APP_NAME} cannot start", f"{APP_NAME} could not start:\n{exc}", path)
        box.finished.connect(app.quit)
        return app.exec()
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
