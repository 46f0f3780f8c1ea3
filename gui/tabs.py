"""The Run and Results tabs of the main window (layout only)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget

from .class_results import ClassResults
from .live_plots import LivePlots
from .progress_panel import ProblemsPanel, ProgressPanel
from .results_table import ResultsTable
from .sample_strip import SampleStrip
from .sweep_plot import SweepPlot


STYLE = """
QLabel#hint { color: #606060; }
QLabel#runStatus { font-weight: bold; font-size: 11pt; }
QLabel#runHint { color: #B00020; }
QPushButton#runButton { font-weight: bold; padding: 4px 18px; }
"""


def section(title: str) -> QLabel:
    label = QLabel(title)
    label.setStyleSheet("font-weight: bold; margin-top: 4px;")
    return label


class RunTab(QWidget):
    """Status line, a progress bar per source, live plots and the problems panel."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        self.status = QLabel("Ready.")
        self.status.setObjectName("runStatus")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.progress = ProgressPanel()
        lay.addWidget(self.progress)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.plots = LivePlots()
        self.split.addWidget(self.plots)
        box = QWidget()
        bl = QVBoxLayout(box)
        bl.setContentsMargins(0, 0, 0, 0)
        title = section("Problems: none so far")
        bl.addWidget(title)
        self.problems = ProblemsPanel(title)
        bl.addWidget(self.problems)
        self.split.addWidget(box)
        self.split.setSizes([420, 160])
        lay.addWidget(self.split, 1)


class ResultsTab(QWidget):
    """Title, the results table, the checkpoint sweep plot or the GAN-train / GAN-test page,
    and the sample strip."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        self.title = QLabel("No results yet.")
        self.title.setObjectName("runStatus")
        self.title.setWordWrap(True)
        lay.addWidget(self.title)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.table = ResultsTable()
        self.sweep = SweepPlot()
        self.classes = ClassResults()
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.addTab(self.sweep, "Checkpoint sweep")
        self.views.addTab(self.classes, "GAN-train / GAN-test")
        self.views.setTabVisible(1, False)
        self.samples = SampleStrip()
        self.split.addWidget(self.table)
        self.split.addWidget(self.views)
        box = QWidget()
        bl = QVBoxLayout(box)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(section("Samples (what was scored)"))
        bl.addWidget(self.samples)
        self.split.addWidget(box)
        self.split.setSizes([170, 300, 150])
        lay.addWidget(self.split, 1)

    def show_result(self, result) -> None:
        self.table.show_result(result)
        self.sweep.show_result(result)
        has_classes = self.classes.show_result(result)
        self.views.setTabVisible(1, has_classes)
        # a run that asked for GAN-train / GAN-test opens on them; others on the sweep
        self.views.setCurrentIndex(1 if has_classes else 0)
        self.fit_table()

    def fit_table(self) -> None:
        """The table as tall as its rows (up to ~8); the plots and samples get the rest."""
        sizes = self.split.sizes()
        want = min(self.table.verticalHeader().length() + self.table.horizontalHeader().height() + 6, 280)
        if sum(sizes) > want:
            rest = sum(sizes) - want
            self.split.setSizes([want, int(rest * 0.62), rest - int(rest * 0.62)])
