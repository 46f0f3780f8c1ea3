"""The feature cache in the Advanced options: its size limit, what it holds, "Clear cache"."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QWidget

from engine.features import cache as feature_cache
from engine.features import cache_limit
from engine.run.options import Options


class CacheSettings(QWidget):
    """Limit spin box (GiB), usage line and a clear button; ``cleared`` fires after clearing."""

    cleared = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.limit = QDoubleSpinBox()
        self.limit.setRange(0.1, 100000.0)
        self.limit.setDecimals(1)
        self.limit.setSuffix(" GiB")
        self.limit.setValue(Options().cache_limit_gb)
        self.limit.setToolTip("Cached features beyond this size are removed, least recently used first")
        self.usage = QLabel()
        self.clear_button = QPushButton("Clear cache")
        self.clear_button.setToolTip("Remove every cached feature set (they are recomputed when needed)")
        self.clear_button.clicked.connect(self.clear)
        lay.addWidget(self.limit)
        lay.addWidget(self.usage, 1)
        lay.addWidget(self.clear_button)
        self.refresh()

    def refresh(self) -> None:
        u = cache_limit.usage(feature_cache.cache_root())
        self.usage.setText(f"in use: {u.entries} entr{'y' if u.entries == 1 else 'ies'}, "
                           f"{u.bytes / cache_limit.GB:.2f} GiB")
        self.usage.setToolTip(str(feature_cache.cache_root()))

    def clear(self) -> None:
        left = cache_limit.clear(feature_cache.cache_root())
        self.refresh()
        if left.entries:
            self.usage.setText(self.usage.text() + " (some entries are in use and were kept)")
        self.cleared.emit()

    def set_running(self, running: bool) -> None:
        # a run may be writing or reading entries: clear between runs only
        self.clear_button.setEnabled(not running)
