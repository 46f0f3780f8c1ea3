"""FID Studio: with no arguments, open the desktop app; otherwise run the command line."""
import sys


def main() -> int:
    if sys.argv[1:2] == ["--selftest"]:
        from selftest import main as selftest_main
        return selftest_main(sys.argv[2:])
    if len(sys.argv) > 1:
        from cli import main as cli_main
        return cli_main(sys.argv[1:])
    try:
        from gui.app import main as gui_main
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("PySide6", "shiboken6", "pyqtgraph"):
            raise
        print(f"error: the desktop app needs PySide6 and pyqtgraph ({exc}). Install them with "
              "pip install 'fid-studio[app]', or use the command line (fid-studio --help).",
              file=sys.stderr)
        return 2
    return gui_main()


if __name__ == "__main__":
    sys.exit(main())
