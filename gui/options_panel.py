"""Metric checkboxes, preset, device and the Advanced options; builds engine Options.

A metric that cannot run is disabled, the reason in its tooltip and a hint. Choices come from
engine.run.options / .features.presets / .metrics (a new metric shows up by itself). GAN-train/test
may take a real validation folder. A suite sets preset and metrics; hand edits make it "Custom".
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGridLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QToolButton,
                               QVBoxLayout, QWidget)

from engine.metrics import METRICS
from engine.run import suites
from engine.run.options import ALL_METRICS, DEFAULT_METRICS, EXECUTORS, Options
from engine.features.presets import PRESETS
from reports.result_format import short_name

from .cache_panel import CacheSettings
from .on_request import NETWORKS as ON_REQUEST
from .clip_score_choice import ClipScoreChoice
from .space_choice import SpaceChoice
from .settings import as_bool, as_float, as_int, as_list, as_str

# Checkbox texts where the engine's label is too long for a checkbox; other metrics use
# METRICS[name].label, so a metric added to the engine appears here by itself.
SHORT_LABELS = {"fid": "FID", "sfid": "sFID", "fid_inf": "FID∞", "fid_ci": "FID 95% interval",
                "kid": "KID", "is": "IS", "pr": "Precision / recall (+ density / coverage)",
                "fd_dinov2": "FD_DINOv2", "clip_fid": "CLIP-FID", "cmmd": "CMMD", "ssim": "SSIM", "mse": "MSE", "psnr": "PSNR", "gan-train": "GAN-train", "gan-test": "GAN-test"}
WIDE = ("pr",)          # gets a row of its own
DEVICE_LABELS = {"auto": "Auto (CUDA if usable)", "cuda": "CUDA (GPU)", "cpu": "CPU"}
DEVICE_IDLE = "Provider: chosen when a run starts"
CLASS_METRICS = ("gan-train", "gan-test")
EXECUTOR_LABELS = {"local": "This computer", "ray": "Ray cluster"}


def ray_missing_reason() -> str | None:
    """Why the Ray executor cannot be chosen here, or None (Ray is optional, not bundled)."""
    import importlib.util
    from engine.distributed import RAY_REQUIREMENT
    if importlib.util.find_spec("ray") is None:
        return f"Ray is not installed (pip install '{RAY_REQUIREMENT}'); not part of the standalone app"
    return None


def _no_val_folder() -> str:
    f = Options().gan_val_fraction
    return f"none: a seeded {round(100 * (1 - f))}/{round(100 * f)} split of the reference"


class ValFolderPicker(QWidget):
    """"Real validation folder…" for GAN-train / GAN-test: optional, the same class
    sub-folders as the reference; without one the engine splits the reference."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.path = ""
        self.start_dir = lambda: ""          # the window points it at the last folder used
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("GAN validation:"))
        self.label = QLabel()
        self.label.setObjectName("hint")
        row.addWidget(self.label, 1)
        lay.addLayout(row)
        buttons = QHBoxLayout()
        self.choose_button = QPushButton("Real validation folder…")
        self.choose_button.setToolTip("Optional: real images in the same class sub-folders as the "
                                      "reference (cat/, dog/…), never used for training")
        self.clear_button = QPushButton("Clear")
        self.choose_button.clicked.connect(self.choose)
        self.clear_button.clicked.connect(lambda: self.set_path(""))
        buttons.addWidget(self.choose_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        self.set_path("")

    def choose(self) -> None:
        start = self.path or self.start_dir()
        d = QFileDialog.getExistingDirectory(self, "Real validation folder (one sub-folder per class)", start)
        if d:
            self.set_path(d)

    def set_path(self, path) -> None:
        self.path = str(path) if path else ""
        self.label.setText(short_name(self.path) if self.path else _no_val_folder())
        self.label.setToolTip(self.path or "Without a validation folder, part of each reference class "
                              "is held out (seeded) to score the classifiers")
        self.clear_button.setEnabled(bool(self.path))


def short_reason(why: str) -> str:
    """The short form of a reason for the visible hint (the tooltip has all of it)."""
    return getattr(why, "short", why)


def _hidden_button(text: str, tip: str, signal) -> QPushButton:
    """An "Enable …" button: shown by set_reasons while its metric needs a download."""
    b = QPushButton(text)
    b.setToolTip(tip)
    b.setVisible(False)
    b.clicked.connect(signal)
    return b


class OptionsPanel(QWidget):
    changed = Signal()
    enable_is_requested = Signal()      # "Enable Inception Score…" clicked
    enable_network_requested = Signal(str)  # "Enable FD-DINOv2…" (CLIP-FID, CMMD) clicked: the metric

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        box = QGroupBox("Metrics")
        grid = QGridLayout(box)
        self.checks: dict[str, QCheckBox] = {}
        row, col = 0, 0
        for m in [m for m in ALL_METRICS if m not in WIDE] + [m for m in ALL_METRICS if m in WIDE]:
            cb = QCheckBox(SHORT_LABELS.get(m, METRICS[m].label if m in METRICS else m))
            cb.setChecked(m in DEFAULT_METRICS)
            cb.toggled.connect(self.changed)
            cb.toggled.connect(self._hand_edit)
            self.checks[m] = cb
            if m in WIDE:
                row, col = (row + 1, 0) if col else (row, 0)
                grid.addWidget(cb, row, 0, 1, 3)
                row += 1
                continue
            grid.addWidget(cb, row, col)
            row, col = (row + 1, 0) if col == 2 else (row, col + 1)
        row = row + 1 if col else row
        self.hint = QLabel()
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        grid.addWidget(self.hint, row, 0, 1, 3)
        self.enable_is_button = _hidden_button(
            "Enable Inception Score…", "Download pytorch-fid's official weights (about 91 MB, "
            "hash-checked) or pick the file, and add the classifier head", self.enable_is_requested)
        grid.addWidget(self.enable_is_button, row + 1, 0, 1, 1)
        # one "Enable …" button per network added on request, shown while its metric is greyed out
        self.enable_buttons: dict[str, QPushButton] = {}
        for k, (metric, net) in enumerate(ON_REQUEST.items(), start=1):
            b = _hidden_button(net.action, f"Download {net.weights} (checked before use) or pick the "
                               "file, and build the model", lambda *_, m=metric: self.enable_network_requested.emit(m))
            grid.addWidget(b, row + 1 + k // 3, k % 3, 1, 1)
            self.enable_buttons[metric] = b
        self.val_folder = ValFolderPicker()
        self.val_folder.setVisible(False)
        grid.addWidget(self.val_folder, row + 3, 0, 1, 3)
        self.changed.connect(self._update_val_folder)
        lay.addWidget(box)
        self.reasons: dict[str, str | None] = {}

        form_box = QGroupBox("Settings")
        form = QFormLayout(form_box)
        self._applying_suite = False
        self.suite = QComboBox()
        self.suite.addItem("Custom (choose metrics and preset)", None)
        for name, suite in suites.SUITES.items():
            self.suite.addItem(suite.label, name)
        self.suite.setToolTip("A paper protocol: fixes the preset, the metrics and their settings")
        self.suite.currentIndexChanged.connect(self._suite_changed)
        form.addRow("Suite", self.suite)
        self.preset = QComboBox()
        for name in PRESETS:
            self.preset.addItem(name, name)
        self.preset_line = QLabel()
        self.preset_line.setObjectName("hint")
        self.preset_line.setWordWrap(True)
        self.preset.currentIndexChanged.connect(self._preset_changed)
        form.addRow("Preset", self.preset)
        form.addRow("", self.preset_line)
        self.space = SpaceChoice()
        self.space.changed.connect(self.changed)
        form.addRow("Feature space", self.space)
        self.clip_score = ClipScoreChoice.add_to(form, self.changed)
        self.device = QComboBox()
        for d, label in DEVICE_LABELS.items():
            self.device.addItem(label, d)
        self.device_status = QLabel(DEVICE_IDLE)
        self.device_status.setObjectName("hint")
        self.device_status.setWordWrap(True)
        form.addRow("Device", self.device)
        form.addRow("", self.device_status)
        lay.addWidget(form_box)

        self.adv_toggle = QToolButton()
        self.adv_toggle.setText("Advanced")
        self.adv_toggle.setCheckable(True)
        self.adv_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.adv_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.adv_toggle.setAutoRaise(True)
        self.adv_toggle.toggled.connect(self._toggle_advanced)
        lay.addWidget(self.adv_toggle)
        self.advanced = QWidget()
        af = QFormLayout(self.advanced)
        af.setContentsMargins(12, 0, 0, 0)
        defaults = Options()
        self.batch = self._spin(1, 1024, defaults.batch_size, "images per inference batch "
                                "(results do not depend on it; memory does)")
        self.workers = self._spin(1, 64, defaults.workers, "threads decoding and resizing images")
        self.seed = self._spin(0, 2**31 - 1, defaults.seed, "seed for KID subsets and subsampling")
        self.is_splits = QComboBox()
        self.is_splits.addItem("TTUR: 10 equal splits in file order", "ttur")
        self.is_splits.addItem("ADM: splits of 5,000 images", "adm")
        self.is_splits.setToolTip("Inception Score splits: TTUR / torch-fidelity (default) or the "
                                  "ADM evaluator's; recorded in the result")
        self.use_cache = QCheckBox("Reuse cached features")
        self.use_cache.setChecked(defaults.use_cache)
        self.use_cache.setToolTip("Features of an unchanged source, model and preset are read "
                                  "from the cache instead of recomputed")
        self.executor = QComboBox()
        for e in EXECUTORS:
            self.executor.addItem(EXECUTOR_LABELS.get(e, e), e)
        self.executor.setToolTip("Where features are computed: here, or spread over a Ray cluster "
                                 "(same numbers either way)")
        missing = ray_missing_reason()
        if missing:
            item = self.executor.model().item(EXECUTORS.index("ray"))
            item.setEnabled(False)
            item.setToolTip(missing)
        self.ray_address = QLineEdit()
        self.ray_address.setPlaceholderText("RAY_ADDRESS, else a local Ray instance")
        self.ray_address.setToolTip("Address of the Ray cluster's head node, e.g. 10.0.0.5:6379; the "
                                    "sources and the model must be readable at the same paths on every node")
        self.executor.currentIndexChanged.connect(self._executor_changed)
        af.addRow("Batch size", self.batch)
        af.addRow("Worker threads", self.workers)
        af.addRow("Seed", self.seed)
        af.addRow("IS splits", self.is_splits)
        af.addRow("", self.use_cache)
        self.cache = CacheSettings()
        af.addRow("Cache limit", self.cache)
        af.addRow("Run on", self.executor)
        af.addRow("Ray address", self.ray_address)
        self._executor_changed()
        self.advanced.setVisible(False)
        lay.addWidget(self.advanced)
        self._preset_changed()

    def _spin(self, lo, hi, value, tip) -> QSpinBox:
        s = QSpinBox()
        s.setRange(lo, hi)
        s.setValue(value)
        s.setToolTip(tip)
        return s

    def _executor_changed(self) -> None:
        self.ray_address.setEnabled(self.executor.currentData() == "ray")

    def _toggle_advanced(self, on: bool) -> None:
        if on:
            self.cache.refresh()
        self.advanced.setVisible(on)
        self.adv_toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

    def _preset_changed(self) -> None:
        p = PRESETS[self.preset.currentData()]
        self.preset_line.setText(f"Equals {p.equals}")
        self.preset_line.setToolTip(f"Resize to 299×299: {p.resize}")
        self._hand_edit()
        self.changed.emit()

    def _suite_changed(self) -> None:
        name = self.suite.currentData()
        if name is None:
            return
        suite = suites.SUITES[name]
        self._applying_suite = True
        try:
            self.preset.setCurrentIndex(self.preset.findData(suite.preset))
            self.set_metrics(suite.metrics)
        finally:
            self._applying_suite = False
        self.changed.emit()

    def _hand_edit(self, *_) -> None:
        """A metric or the preset changed by hand: the form no longer is the suite."""
        name = getattr(self, "suite", None) and self.suite.currentData()
        if not name or self._applying_suite:
            return
        suite = suites.SUITES[name]
        wanted = {m for m in suite.metrics if m in ALL_METRICS}
        chosen = {m for m, cb in self.checks.items() if cb.isChecked()}
        if self.preset.currentData() != suite.preset or chosen != wanted:
            self.suite.setCurrentIndex(0)

    # -- availability ----------------------------------------------------------------------
    def set_reasons(self, reasons: dict, note: str = "") -> None:
        """Disable metrics that cannot run; say why in the tooltip and in the hint line."""
        self.reasons = dict(reasons)
        lines = []
        groups: dict[str, list] = {}
        for m, cb in self.checks.items():
            why = reasons.get(m)
            cb.setEnabled(why is None)
            cb.setToolTip(why or (METRICS[m].label if m in METRICS else m))
            if why:
                groups.setdefault(why, []).append(cb.text().split(" ")[0])
        for why, names in groups.items():
            lines.append(f"{' / '.join(names)} unavailable: {short_reason(why)}")
        if note:
            lines.append(note)
        self.hint.setText("\n".join(lines))
        self.hint.setVisible(bool(lines))
        self.enable_is_button.setVisible(bool(getattr(reasons.get("is"), "offer_enable", False)))
        for metric, button in self.enable_buttons.items():
            missing = bool(getattr(reasons.get(metric), "offer_enable", False))
            button.setVisible(missing)
            self.space.set_available(ON_REQUEST[metric].space, reasons[metric] if missing else None)
        self.clip_score.set_reasons(reasons)
        self._update_val_folder()

    def _update_val_folder(self) -> None:
        """The validation-folder picker is shown while GAN-train / GAN-test can run and are chosen."""
        self.val_folder.setVisible(bool(set(self.metrics()) & set(CLASS_METRICS)))

    def val_path(self) -> str | None:
        """The real validation folder for this run, or None (not chosen, or no GAN metric)."""
        return (self.val_folder.path or None) if set(self.metrics()) & set(CLASS_METRICS) else None

    def metrics(self) -> tuple:
        return tuple(m for m in ALL_METRICS if self.checks[m].isChecked() and self.checks[m].isEnabled())

    def set_metrics(self, metrics) -> None:
        for m, cb in self.checks.items():
            cb.setChecked(m in metrics)

    def options(self) -> Options:
        """The engine Options of the form; raises engine.errors.OptionError when none fits."""
        opts = Options(metrics=self.metrics(), preset=self.preset.currentData(),
                       device=self.device.currentData(), batch_size=self.batch.value(),
                       workers=self.workers.value(), seed=self.seed.value(),
                       is_splits=self.is_splits.currentData(),
                       feature_space=self.space.feature_space(),
                       dinov2_convention=self.space.dinov2_convention(),
                       clip_score_convention=self.clip_score.convention(), use_cache=self.use_cache.isChecked(), cache_limit_gb=self.cache.limit.value(),
                       executor=self.executor.currentData(),
                       ray_address=self.ray_address.text().strip() or None)
        name = self.suite.currentData()
        if name is None:
            return opts
        # the suite's settings (e.g. ADM's IS splits and precision/recall convention) on top;
        # a metric the reference cannot serve stays off, as the checkboxes show
        return suites.apply(name, opts).replace(metrics=opts.metrics)

    def set_device_status(self, text: str) -> None:
        self.device_status.setText(text or DEVICE_IDLE)

    # -- settings --------------------------------------------------------------------------
    def save_settings(self, s) -> None:
        s.beginGroup("options")
        s.setValue("metrics", [m for m, cb in self.checks.items() if cb.isChecked()])
        s.setValue("preset", self.preset.currentData())
        s.setValue("suite", self.suite.currentData() or "")
        s.setValue("device", self.device.currentData())
        s.setValue("is_splits", self.is_splits.currentData())
        s.setValue("feature_space", self.space.feature_space())
        s.setValue("dinov2_convention", self.space.dinov2_convention())
        s.setValue("clip_score_convention", self.clip_score.convention())
        s.setValue("batch_size", self.batch.value())
        s.setValue("workers", self.workers.value())
        s.setValue("seed", self.seed.value())
        s.setValue("use_cache", self.use_cache.isChecked())
        s.setValue("cache_limit_gb", self.cache.limit.value())
        s.setValue("executor", self.executor.currentData())
        s.setValue("ray_address", self.ray_address.text().strip())
        s.setValue("advanced_open", self.adv_toggle.isChecked())
        s.setValue("gan_val_folder", self.val_folder.path)
        s.endGroup()

    def restore_settings(self, s) -> None:
        s.beginGroup("options")
        metrics = as_list(s.value("metrics")) if s.contains("metrics") else list(DEFAULT_METRICS)
        self.set_metrics([m for m in metrics if m in ALL_METRICS])
        for combo, key in ((self.preset, "preset"), (self.device, "device"), (self.executor, "executor"),
                           (self.is_splits, "is_splits")):
            i = combo.findData(as_str(s.value(key)))
            if i >= 0 and combo.model().item(i).isEnabled():
                combo.setCurrentIndex(i)
        self.space.select(as_str(s.value("feature_space")), as_str(s.value("dinov2_convention")))
        self.clip_score.select(as_str(s.value("clip_score_convention")))
        for spin, key in ((self.batch, "batch_size"), (self.workers, "workers"), (self.seed, "seed")):
            spin.setValue(as_int(s.value(key), spin.value()))
        self.use_cache.setChecked(as_bool(s.value("use_cache"), True))
        self.cache.limit.setValue(as_float(s.value("cache_limit_gb"), self.cache.limit.value()))
        self.ray_address.setText(as_str(s.value("ray_address")) or "")
        i = self.suite.findData(as_str(s.value("suite")) or None)
        self.suite.setCurrentIndex(max(0, i))
        self.adv_toggle.setChecked(as_bool(s.value("advanced_open"), False))
        val = as_str(s.value("gan_val_folder"))
        self.val_folder.set_path(val if val and Path(val).is_dir() else "")
        s.endGroup()
        self._update_val_folder()
