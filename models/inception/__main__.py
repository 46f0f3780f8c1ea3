"""``python -m models.inception``: build the FID Inception model (see build.py)."""
import sys

from .build import main

sys.exit(main())
