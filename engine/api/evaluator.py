"""``Evaluator``: a reference processed once, then any number of ``score`` calls.

Each call runs the CLI's own pipeline (preset preprocessing, batching, the ONNX Runtime
session, streaming statistics, the metric functions and their warnings), so the same pixels
give the same numbers as ``fid-studio compute``. In-memory images enter that pipeline as an
"arrays" source instead of files. The ONNX Runtime session is created once; ``score`` and
``log`` may be called from several threads at once (a training loop's callback thread, a
data-loader thread): calls share only the read-only reference and the session, whose
``run`` is thread-safe, and the history writer, which has its own lock.
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from types import MappingProxyType

from ..errors import OptionError
from ..features.pipeline import extract_spaces
from ..features.spaces import DISTANCE_METRICS
from ..inputs.sources import check_stats_dim, open_source
from ..metrics import METRICS
from ..run import clip_score_run, space_models
from ..run.job import _feature_metrics, _note_warnings, _StatsOnly, load_model
from ..run.reference_batch import adm_reference
from ..run.options import Options
from ..run.result import SourceResult, empty_metrics, skipped_records
from .images import array_source, is_single_batch
from .model_setup import ensure_model
from .scores import Scores

# metrics computed from one set of images against the reference (no pairs, no classes),
# the distances of the other feature spaces (fd_dinov2, clip_fid, cmmd) included
API_METRICS = tuple(name for name, spec in METRICS.items()
                    if spec.needs in ("features", "logits", "prompts") or name in DISTANCE_METRICS)
# options of the other feature spaces the API passes through (dinov2_convention, dinov2_model_path)
_SPACE_OPTIONS = ("_convention", "_model_path")
SCORE_KEYS = tuple(k for name in API_METRICS for k in METRICS[name].keys)


class _CountingModel:
    """The inference session, counting the images it has run (``Evaluator.images_run``)."""

    def __init__(self, model):
        self._model = model
        self.sha256, self.has_logits, self.device = model.sha256, model.has_logits, model.device
        self._lock = threading.Lock()
        self.images_run = 0

    def run(self, batch):
        out = self._model.run(batch)
        with self._lock:
            self.images_run += len(batch)
        return out

    def run_outputs(self, batch, spatial: bool = False) -> dict:
        out = self._model.run_outputs(batch, spatial=spatial)
        with self._lock:
            self.images_run += len(batch)
        return out

    def describe(self) -> dict:
        return self._model.describe()

    def __getattr__(self, name):      # anything else the pipeline reads (outputs, session...)
        return getattr(self._model, name)


class Evaluator:
    """Scores generated images against a fixed reference, as ``fid-studio compute`` would.

    reference: a folder, .zip, stats .npz (``mu``/``sigma``), samples .npz (uint8 ``arr_0``),
        a uint8 array N×H×W×3 / N×3×H×W, or an iterable of such batches. Processed once.
    preset: ``clean`` | ``pytorch-fid`` | ``tensorflow`` (the reference convention).
    metrics: any of ``fid``, ``kid``, ``is``, ``pr``, ``fd_dinov2``, ``clip_fid``, ``cmmd``,
        ``clip_score`` (paired and class metrics need folders: use the CLI for those).
        ``clip_score`` needs no reference (``reference=None`` when it is the only metric) and
        the prompts of the images: ``score(images, prompts=[...])``, or the prompts files beside
        a folder (engine/inputs/prompts.py); ``clip_score_convention`` (``torchmetrics`` |
        ``hessel``) and ``clip_vitl14_model_path``... as the Options of the same names.
    device: ``auto`` | ``cuda`` | ``cpu``.
    model: an ONNX model file; default: the app's model, built on first use.
    feature_space: the space of KID and precision/recall (``inception`` | ``dinov2`` |
        ``clip``), as the CLI's ``--feature-space``; ``dinov2_convention``, ``dinov2_model_path``,
        ``clip_model_path``, ``clip_l336_model_path`` as the Options of the same names. A space whose model is not added leaves its FD null with the reason in
        ``warnings``; choosing it as ``feature_space`` raises ModelError.
    history: the History database ``log`` writes to; default: the app's own.
    """

    def __init__(self, reference, preset: str = "clean", metrics=("fid", "kid"), device: str = "auto", *,
                 batch_size: int = 32, workers: int | None = None, seed: int = 0, model=None,
                 use_cache: bool = True, history=None, feature_space: str = "inception", **space_options):
        metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
        unknown = [k for k in space_options if not k.endswith(_SPACE_OPTIONS)]
        if unknown:
            raise TypeError(f"Evaluator() got unexpected keyword argument(s) {', '.join(unknown)}")
        bad = [m for m in metrics if m not in API_METRICS]
        if bad:
            raise OptionError(f"metric(s) {', '.join(map(str, bad))} not available in the Python API; "
                              f"valid: {', '.join(API_METRICS)} (paired and class metrics: use the CLI)")
        extra = {"workers": workers} if workers is not None else {}
        # live_fid_budget 0: no running FID during a call, only the final value
        self.options = Options(metrics=metrics, preset=preset, device=device, batch_size=batch_size,
                               seed=seed, use_cache=use_cache, live_fid_budget=0.0,
                               feature_space=feature_space, **space_options, **extra)
        inception = None
        if "inception" in self.options.spaces_needed():
            inception = _CountingModel(load_model(self.options, ensure_model(model)))
        self._model = inception
        spaces = space_models.load(self.options, inception, on_ray=False)
        spaces.models = {name: m if isinstance(m, _CountingModel) else _CountingModel(m)
                         for name, m in spaces.models.items()}
        self._spaces = spaces
        self._clip = clip_score_run.load(self.options, spaces) if "clip_score" in metrics else None
        if reference is None and set(metrics) != {"clip_score"}:
            raise OptionError("a reference is needed for every metric but clip_score")
        self._history_path = history
        self._log = None
        self._log_lock = threading.Lock()
        self._workdirs: list = []
        self.reference_label, self._ref_all = (None, {}) if reference is None else \
            self._features(reference, "reference", keep=True)
        self._ref = self._main(self._ref_all)     # None: no metric reads the reference

    # -- public ----------------------------------------------------------------------------
    @property
    def _first_model(self):
        return self._model or next(iter(self._spaces.models.values()), None)

    @property
    def device(self) -> str:
        """``cuda`` or ``cpu``: where the model really runs."""
        return self._first_model.device.device

    @property
    def device_line(self) -> str:
        return self._first_model.device.line

    @property
    def model_sha256(self) -> str:
        """The Inception model's SHA-256 (the first space's model when Inception is not used)."""
        return self._first_model.sha256

    @property
    def n_reference(self) -> int:
        if self._ref is None:
            return 0
        return int(self._ref.stats.n or 0) if self._ref.features is None else int(self._ref.n)

    @property
    def images_run(self) -> int:
        """Images run through the networks so far (the reference included, once per network)."""
        return sum(m.images_run for m in self._spaces.models.values())

    def score(self, images, prompts=None) -> Scores:
        """Metrics of ``images`` (an array, an iterable of batches, or a folder/.zip/.npz
        path) against the reference; ``prompts``: one text per image, for ``clip_score`` (a
        folder's own prompts files are read when not given)."""
        if prompts is not None and (isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts)):
            raise OptionError("prompts must be a list of strings, one per image")
        prompts = list(prompts) if prompts is not None else None
        n_known = len(images) if prompts is not None and is_single_batch(images) else None
        if n_known is not None and n_known != len(prompts):
            raise OptionError(f"{len(prompts)} prompt(s) given for {n_known} image(s): give one per image")
        label, gen_all = self._features(images, "generated", keep=False)
        opts = self.options
        try:
            gen = self._main(gen_all)
            warnings = list(getattr(gen, "source_warnings", []))
            res = SourceResult(path=label, n_images=gen.n, metrics=empty_metrics(), warnings=warnings)
            if gen.features is None:
                raise OptionError("score() needs images, not a stats file")
            res.skipped = skipped_records(gen.skipped)
            res.warnings += _note_warnings(gen.notes)
            if gen.cache_note:
                res.warnings.append(gen.cache_note)
            res.extras["spaces"] = space_models.metric_tags(opts)
            dist = (self._ref_all.get(opts.feature_space, self._ref), gen_all.get(opts.feature_space, gen))
            if self._ref is not None:          # None: CLIPScore alone, which reads no reference
                _feature_metrics(opts, self._ref, gen, self._model, res, dist=dist)
                space_models.distance_metrics(opts, self._spaces, self._ref_all, gen_all, res)
            if self._clip is not None:
                clip_score_run.compute(opts, self._clip, self._prompts_of(images, prompts, gen), gen_all, res)
        finally:
            for ext in gen_all.values():
                if getattr(ext, "workdir", None):
                    shutil.rmtree(ext.workdir, ignore_errors=True)
        return Scores(metrics=MappingProxyType({k: res.metrics.get(k) for k in SCORE_KEYS}),
                      n_images=res.n_images, n_reference=self.n_reference, preset=opts.preset,
                      seed=opts.seed, warnings=tuple(res.warnings),
                      skipped=tuple(res.skipped), extras=dict(res.extras))

    def log(self, step: int, scores: Scores, run: str = "training") -> None:
        """Record ``scores`` at training ``step`` under the experiment ``run`` in the History
        database; the desktop app draws the curve as points arrive. Thread-safe."""
        from ..outputs.training_log import TrainingLog
        with self._log_lock:
            if self._log is None:
                self._log = TrainingLog(self._history_path)
            self._log.log(run, step, scores, reference=self.reference_label or "(none: CLIPScore only)",
                          model_sha256=self.model_sha256)

    def close(self) -> None:
        with self._log_lock:
            if self._log is not None:
                self._log.close()
                self._log = None
        for d in self._workdirs:
            shutil.rmtree(d, ignore_errors=True)
        self._workdirs.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            for d in self._workdirs:
                shutil.rmtree(d, ignore_errors=True)
        except Exception:  # interpreter shutdown: nothing left to clean with
            pass

    # -- inputs ----------------------------------------------------------------------------
    def _prompts_of(self, images, prompts, gen):
        """The prompts of a ``score`` call: given (checked against the images read), else a
        folder's own prompts files."""
        from ..inputs.prompts import Prompts, read_prompts
        if self._clip.missing:
            return None
        if prompts is None:
            if isinstance(images, (str, os.PathLike)):
                return read_prompts(open_source(Path(images)))
            return Prompts(unavailable="no prompts given: score(images, prompts=[...])")
        n = gen.n + len(gen.skipped)
        if n != len(prompts):
            raise OptionError(f"{len(prompts)} prompt(s) given for {n} image(s): give one per image")
        names = [f"#{i}" for i in range(n)] if not isinstance(images, (str, os.PathLike)) \
            else open_source(Path(images)).files
        return Prompts(prompts=dict(zip(names, prompts)), form="score(prompts=...)")


    @staticmethod
    def _main(exts: dict):
        """The side counts come from: Inception's, else the only space's (None: no space)."""
        return exts.get("inception") or next(iter(exts.values()), None)

    def _features(self, images, role: str, keep: bool):
        """(label, {space: extracted features}) of any accepted input."""
        opts = self.options
        if isinstance(images, (str, os.PathLike)):
            # the CLI's reading of files: the same sources, refusals and messages
            src = open_source(Path(images))
            check_stats_dim(src, reference=role == "reference")
            label = src.label
            if src.kind == "stats":
                return label, {"inception": _StatsOnly(src)}
            if role == "reference" and src.kind == "array" and src.stats is not None:
                exts = {}

                def images_of():
                    exts.update(self._extract(src, opts, role, keep))
                    return exts.get("inception") or _StatsOnly(src)
                exts["inception"] = adm_reference(opts, src, images_of, _StatsOnly)
                return label, exts
        else:
            src = array_source(images)
            n = len(src.files)
            label = f"in-memory images ({n})" if n else "in-memory images"
            opts = opts.replace(use_cache=False)
        exts = self._extract(src, opts, role, keep)
        if role == "reference" and not len(src.files) and src.kind == "arrays" and exts:
            label = f"in-memory images ({self._main(exts).n})"
        return label, exts

    def _extract(self, src, opts, role: str, keep: bool) -> dict:
        requests = [r for r in self._spaces.requests(opts)      # CLIPScore: generated side only
                    if role != "reference" or r.space.name not in opts.generated_only_spaces()]
        exts = extract_spaces(src, requests, opts, role=role)
        for ext in exts:
            ext.source_warnings = src.warnings()
            if keep and getattr(ext, "workdir", None):
                self._workdirs.append(ext.workdir)
        return {r.space.name: e for r, e in zip(requests, exts)}
