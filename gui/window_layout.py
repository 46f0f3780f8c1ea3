"""The main window's layout: the setup column (sources, options, Run / Cancel), the tabs and
the menus. The window's behaviour stays in main_window.py."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QScrollArea, QSplitter, QTabWidget,
                               QVBoxLayout, QWidget)

from .history_view import HistoryView
from .live_training import LiveTraining
from .options_panel import OptionsPanel
from .samples_view import SamplesView
from .sources_panel import SourcesPanel
from .tabs import ResultsTab, RunTab


def build(w) -> None:
    """Widgets, tabs and menus of the main window ``w`` (its attributes are set here)."""
    setup = QWidget()
    sl = QVBoxLayout(setup)
    sl.setContentsMargins(6, 6, 6, 6)
    w.sources = SourcesPanel(w.pool)
    w.options = OptionsPanel()
    w.options.val_folder.start_dir = lambda: w.sources.last_dir
    sl.addWidget(w.sources)
    sl.addWidget(w.options)
    sl.addStretch(1)
    scroll = QScrollArea()
    scroll.setWidget(setup)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    # Run / Cancel and their messages stay visible below the scrolling setup.
    left = QWidget()
    # wide enough for the setup column's widest row, so it never needs a horizontal scroll bar
    left.setMinimumWidth(max(400, setup.minimumSizeHint().width()
                             + scroll.verticalScrollBar().sizeHint().width() + 4))
    ll = QVBoxLayout(left)
    ll.setContentsMargins(0, 0, 0, 6)
    ll.addWidget(scroll, 1)
    row = QHBoxLayout()
    row.setContentsMargins(6, 0, 6, 0)
    w.run_button = QPushButton("Run")
    w.run_button.setObjectName("runButton")
    w.run_button.setToolTip("Score the generated sources (Ctrl+R)")
    w.cancel_button = QPushButton("Cancel")
    w.cancel_button.setToolTip("Stop the run; nothing is saved (Esc)")
    w.run_button.clicked.connect(lambda: w.start_run())
    w.cancel_button.clicked.connect(w.cancel_run)
    row.addWidget(w.run_button, 1)
    row.addWidget(w.cancel_button)
    ll.addLayout(row)
    w.run_hint = QLabel()
    w.run_hint.setObjectName("runHint")
    w.run_hint.setWordWrap(True)
    w.watch_status = QLabel()
    w.watch_status.setObjectName("hint")
    w.watch_status.setWordWrap(True)
    for label in (w.run_hint, w.watch_status):
        label.setContentsMargins(8, 0, 8, 0)
        ll.addWidget(label)

    w.tabs = QTabWidget()
    w.run_tab, w.results_tab = RunTab(), ResultsTab()
    w.tabs.addTab(w.run_tab, "Run")
    w.tabs.addTab(w.results_tab, "Results")
    rt, st = w.run_tab, w.results_tab
    w.run_status, w.progress, w.live_plots = rt.status, rt.progress, rt.plots
    w.problems, w.run_split = rt.problems, rt.split
    w.result_title, w.table, w.sweep, w.classes = st.title, st.table, st.sweep, st.classes
    w.samples, w.results_split = st.samples, st.split

    w.history_view = HistoryView(w.history, training=w.training)
    w.history_view.open_requested.connect(w.show_stored)
    w.history_view.training_open_requested.connect(w.open_training)
    w.live_training = LiveTraining(w)
    w.history_view.export_requested.connect(w.export_dialog)
    w.tabs.addTab(w.history_view, "History")
    w.samples_view = SamplesView(w.pool)
    w.tabs.addTab(w.samples_view, "Samples")
    w.tabs.currentChanged.connect(
        lambda i: w.samples_view.activate() if w.tabs.widget(i) is w.samples_view else None)

    split = QSplitter(Qt.Orientation.Horizontal)
    split.addWidget(left)
    split.addWidget(w.tabs)
    split.setStretchFactor(1, 1)
    split.setSizes([left.minimumWidth() + 20, 900])
    w.main_split = split
    w.setCentralWidget(split)
    w.device_label = QLabel()
    w.statusBar().addPermanentWidget(w.device_label)
    _menus(w)

def _menus(w) -> None:
    file_menu = w.menuBar().addMenu("&File")
    run_menu = w.menuBar().addMenu("&Run")

    def act(menu, text, slot, shortcut=None):
        a = QAction(text, w)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
        a.triggered.connect(slot)
        menu.addAction(a)
        return a
    w.act_add = act(file_menu, "&Add source…", w.add_source, "Ctrl+O")
    act(file_menu, "Add &checkpoint folder…", w.sources.choose_checkpoint_folder)
    w.act_export = act(file_menu, "&Export…", lambda: w.export_dialog(w.current), "Ctrl+E")
    file_menu.addSeparator()
    act(file_menu, "&Quit", w.close, QKeySequence.StandardKey.Quit)
    model_menu = w.menuBar().addMenu("&Model")
    w.act_enable_is = act(model_menu, "Enable &Inception Score…", w.enable_is_dialog)
    from .on_request import NETWORKS
    w.act_enable = {metric: act(model_menu, row.action, lambda *_, m=metric: w.enable_network_dialog(m))
                    for metric, row in NETWORKS.items()}
    w.act_run = act(run_menu, "&Run", lambda: w.start_run(), "Ctrl+R")
    w.act_cancel = act(run_menu, "&Cancel", w.cancel_run, "Esc")
