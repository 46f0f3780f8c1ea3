"""Persistent settings (QSettings), versioned with a migration step per version.

Each panel saves and restores its own keys inside its own group. With
$FID_STUDIO_DATA_DIR set (tests, portable installs) the settings live in an INI file
there instead of the platform's native store.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

from engine import APP_ID, APP_NAME

SETTINGS_VERSION = 1
VERSION_KEY = "settings_version"


def _migrate_0_to_1(s: QSettings) -> None:
    # Version 0 is "no version key": settings from before versioning, or none at all.
    # Nothing was released before version 1, so there is nothing to carry over.
    s.clear()


MIGRATIONS = {0: _migrate_0_to_1}


def _new_settings() -> QSettings:
    env = os.environ.get("FID_STUDIO_DATA_DIR")
    if env:
        return QSettings(str(Path(env) / "settings.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, APP_ID, APP_NAME)


def open_settings() -> QSettings:
    return open_settings_checked()[0]


def open_settings_checked() -> tuple[QSettings, str | None]:
    """The settings, and a message when the settings file was damaged: it is then moved aside
    (``<name>.damaged-<time>``) and the app starts with default settings."""
    s = _new_settings()
    s.allKeys()                       # reads the file; a damaged one sets FormatError
    note = None
    if s.status() == QSettings.Status.FormatError and s.fileName() and Path(s.fileName()).is_file():
        import time
        path = Path(s.fileName())
        moved = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        del s
        os.replace(path, moved)
        s = _new_settings()
        note = (f"The settings file {path} could not be read. It was moved to {moved} and "
                "default settings are used.")
    migrate(s)
    return s, note


def migrate(s: QSettings) -> None:
    version = as_int(s.value(VERSION_KEY), 0)
    if version > SETTINGS_VERSION:
        # Written by a newer version: its keys may mean something else. Start fresh rather
        # than misread them (the newer version keeps working with its own file).
        s.clear()
        version = SETTINGS_VERSION
    while version < SETTINGS_VERSION:
        MIGRATIONS[version](s)
        version += 1
    s.setValue(VERSION_KEY, SETTINGS_VERSION)


# QSettings hands back strings from INI files and typed values from native stores: these
# helpers accept both and fall back to a default on anything unexpected.
def as_int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def as_bool(value, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return default


def as_str(value, default: str = "") -> str:
    return value if isinstance(value, str) else default


def as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


def as_float(value, default: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return default
    return v if v == v else default  # NaN -> default
