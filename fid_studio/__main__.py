"""``python -m fid_studio``: the same as the ``fid-studio`` command (app, or command line)."""
import sys

from main import main

if __name__ == "__main__":
    sys.exit(main())
