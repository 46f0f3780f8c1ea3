"""CLIPScore's convention next to the feature space: torchmetrics (CLIP ViT-L/14, the default) or
hessel (the original CLIPScore, ViT-B/32). A convention whose image tower, text tower or
vocabulary is missing is greyed out with the reason (metric_availability's
``clip_score/<convention>`` entries); the options panel asks this widget for the value."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox

from engine.features.spaces import CLIPSCORE_SPACES, get_space
from engine.run.options import CLIP_SCORE_CONVENTIONS, Options

LABELS = {"torchmetrics": "torchmetrics (CLIP ViT-L/14, 100·cos)",
          "hessel": "Hessel et al. 2021 (ViT-B/32, 2.5·max(cos, 0))"}


class ClipScoreChoice(QComboBox):
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._tips = {}
        for name in CLIP_SCORE_CONVENTIONS:
            conv = get_space(CLIPSCORE_SPACES[name]).convention(name)
            self.addItem(LABELS.get(name, name), name)
            self._tips[name] = f"Equals {conv.equals}. {conv.resize}"
            self.setItemData(self.count() - 1, self._tips[name], Qt.ItemDataRole.ToolTipRole)
        self.setToolTip("How CLIPScore is computed (prompts beside the generated images: prompts.csv, "
                        "prompts.jsonl, a .txt per image, or a 'prompts' array in the .npz); recorded "
                        "in the result")
        self.currentIndexChanged.connect(self.changed)

    @classmethod
    def add_to(cls, form, on_change) -> "ClipScoreChoice":
        """A choice in row "CLIPScore" of ``form``, its changes to ``on_change`` (a signal)."""
        choice = cls()
        choice.changed.connect(on_change)
        form.addRow("CLIPScore", choice)
        return choice

    def convention(self) -> str:
        return self.currentData() or Options().clip_score_convention

    def set_reasons(self, reasons: dict) -> None:
        """Grey out each convention that cannot run (``reasons["clip_score/<name>"]``); move off
        a greyed-out choice to one that can run."""
        for i in range(self.count()):
            why = reasons.get(f"clip_score/{self.itemData(i)}")
            self.model().item(i).setEnabled(why is None)
            self.setItemData(i, why or self._tips[self.itemData(i)], Qt.ItemDataRole.ToolTipRole)
        if not self.model().item(self.currentIndex()).isEnabled():
            usable = [i for i in range(self.count()) if self.model().item(i).isEnabled()]
            if usable:
                self.setCurrentIndex(usable[0])

    def select(self, name: str | None) -> None:
        i = self.findData(name)
        if i >= 0 and self.model().item(i).isEnabled():
            self.setCurrentIndex(i)
