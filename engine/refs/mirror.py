"""Where catalogue files are downloaded from: their published URL, or a mirror of it.

``FID_STUDIO_REFS_MIRROR=URL`` (or the GUI's setting, passed as ``mirror=``) makes
``https://HOST/PATH`` come from ``URL/HOST/PATH`` — the layout ``wget --mirror`` writes — for
machines that reach an internal file server but not the internet (and for the tests).
"""
from __future__ import annotations

import os
from urllib.parse import urlparse

from ..errors import OptionError

ENV_VAR = "FID_STUDIO_REFS_MIRROR"


def mirror_base(mirror: str | None = None) -> str | None:
    """The mirror to use: ``mirror`` when given (even ""), else the environment's; None: none."""
    base = os.environ.get(ENV_VAR, "") if mirror is None else mirror
    base = base.strip()
    if not base:
        return None
    u = urlparse(base)
    if u.scheme not in ("http", "https") or not u.netloc:
        raise OptionError(f"refs mirror {base!r} is not an http:// or https:// URL ({ENV_VAR})")
    return base.rstrip("/")


def source_url(url: str, mirror: str | None = None) -> str:
    """``url`` itself, or its place under the mirror: ``MIRROR/HOST/PATH``."""
    base = mirror_base(mirror)
    if base is None:
        return url
    u = urlparse(url)
    return f"{base}/{u.hostname}{u.path}"
