"""The feature space next to the preset: Inception (the default), DINOv2 or CLIP ViT-B/32, and
DINOv2's convention (dgm-eval or EDM2). The space decides where KID, precision/recall,
density/coverage and the per-image scores are computed; FD_DINOv2 uses the convention.
A space is offered only once its model is added ("Enable FD-DINOv2…", "Enable CLIP-FID…")."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QWidget

from engine.features.spaces import DEFAULT_SPACE, SPACES

SPACE_LABELS = {"inception": "Inception-v3", "dinov2": "DINOv2 ViT-L/14", "clip": "CLIP ViT-B/32"}


class SpaceChoice(QWidget):
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.space = QComboBox()
        for name in SPACES:
            self.space.addItem(SPACE_LABELS.get(name, SPACES[name].label), name)
        self.space.setToolTip("Where KID, precision/recall, density/coverage and the per-image "
                              "scores are computed; FID and sFID are always Inception's")
        self.convention = QComboBox()
        for name, conv in SPACES["dinov2"].conventions.items():
            self.convention.addItem(name, name)
            i = self.convention.count() - 1
            self.convention.setItemData(i, f"Equals {conv.equals}. {conv.resize}",
                                        Qt.ItemDataRole.ToolTipRole)
        self.convention.setToolTip("DINOv2 preprocessing: dgm-eval (Stein et al. 2023) or EDM2's "
                                   "calculate_metrics.py; recorded in the result")
        lay.addWidget(self.space, 2)
        lay.addWidget(self.convention, 1)
        self.space.currentIndexChanged.connect(self.changed)
        self.convention.currentIndexChanged.connect(self.changed)

    def feature_space(self) -> str:
        return self.space.currentData()

    def dinov2_convention(self) -> str:
        return self.convention.currentData()

    def set_available(self, space: str, why: str | None) -> None:
        """Offer ``space`` only with its model; else say why and fall back to Inception (a
        space that is not a feature_space choice, such as CMMD's, is ignored)."""
        i = self.space.findData(space)
        if i < 0:
            return
        item = self.space.model().item(i)
        item.setEnabled(why is None)
        item.setToolTip(why or "")
        if why is not None and self.feature_space() == space:
            self.space.setCurrentIndex(self.space.findData(DEFAULT_SPACE))

    def select(self, space: str | None, convention: str | None) -> None:
        for combo, value in ((self.space, space), (self.convention, convention)):
            i = combo.findData(value)
            if i >= 0 and combo.model().item(i).isEnabled():
                combo.setCurrentIndex(i)
