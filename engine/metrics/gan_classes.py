"""GAN-train / GAN-test (Shmelkov, Schmid, Alahari, "How good is my GAN?", ECCV 2018).

GAN-train: fit a classifier on generated images, score it on real validation images.
GAN-test:  fit a classifier on real training images, score it on generated images.
Both are read next to the real baseline (fit on real-train, score on real-val).

This is the linear-probe variant: an L2-regularised multinomial logistic regression on
Inception pool3 features that the engine has already computed, not the paper's CNN
trained from pixels. Numbers are comparable with other runs of this module only.

Pure functions over arrays, no file IO, no Qt: the pipeline finds the files and passes
features plus integer labels that index `class_names`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits  # a scikit-learn dependency

from ..errors import InputError, OptionError

METHOD = (
    "Linear probe: L2-regularised multinomial logistic regression (scikit-learn, lbfgs) "
    "on standardised Inception pool3 features (2048-d). This is not the CNN trained "
    "from pixels in Shmelkov et al. (ECCV 2018); compare only with other linear-probe runs."
)
DEFAULT_MIN_PER_CLASS = 5
DEFAULT_SWEEP_POINTS = 5
SWEEP_MIN_SIZE = 10  # smallest per-class size in the automatic sweep
# 4000 x 2048, 10 classes: at tol 1e-4 lbfgs stops after ~11 iterations and ~5% of its
# predictions differ from the converged model; 1e-5 agrees ~99% at half the cost of 1e-6.
DEFAULT_TOL = 1e-5
MEMORISATION_MIN_MARGIN = 0.05

# Separate RNG streams, so changing the sweep never changes the split.
_STREAM_SPLIT, _STREAM_SWEEP_REAL, _STREAM_SWEEP_GEN = 1, 2, 3


class ClassLayoutError(InputError, ValueError):
    """Fewer than two classes have real, validation and generated images."""


@dataclass(frozen=True)
class GanClassResult:
    """Accuracies are fractions in [0, 1]; a sweep value is None where it cannot be measured."""

    gan_train: float
    gan_test: float
    real_baseline: float
    chance: float
    classes: tuple[str, ...]  # the classes actually used, in label order
    excluded_classes: tuple[str, ...]
    per_class: dict[str, dict[str, float]]  # name -> {gan_train, gan_test, real_baseline}
    counts: dict[str, dict[str, int]]  # name -> {real_train, real_val, gen}
    sweep: dict[str, list]  # {sizes, gan_train, real}; sizes are images per class
    split: dict[str, object]
    memorisation_flag: bool
    memorisation_margin: float
    warnings: tuple[str, ...]
    seed: int
    classifier: dict[str, object]  # C, max_iter, tol, solver
    n_features: int
    method: str = field(default=METHOD)

    def to_dict(self) -> dict:
        """A JSON-ready deep copy (tuples become lists; values are plain Python types)."""
        return _json_ready(asdict(self))


def _json_ready(value):
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return value


def check_classes(
    real_counts: Mapping[str, int],
    gen_counts: Mapping[str, int],
    val_counts: Mapping[str, int] | None = None,
    *,
    val_fraction: float = 0.2,
    min_per_class: int = DEFAULT_MIN_PER_CLASS,
) -> list[str]:
    """Plain-language problems with the class layout (empty list when all is well).

    Counts map class (folder) name -> number of images. A class is used only when it has
    real images, generated images and (with `val_counts`) validation images; without a
    validation set it needs `min_per_class` real images to be split.
    """
    return _screen_classes(real_counts, gen_counts, val_counts, val_fraction, min_per_class)[1]


def _screen_classes(real_counts, gen_counts, val_counts, val_fraction, min_per_class):
    """(usable class names in real order, problems)."""
    if min_per_class < 2:
        raise OptionError(f"min_per_class must be at least 2, got {min_per_class}.")
    if val_counts is None and not 0.0 < val_fraction < 1.0:
        raise OptionError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}.")
    problems = [
        f"{side} class '{name}' has no real class of the same name and is ignored; "
        "rename its folder to match a real class or remove it."
        for side, counts in (("Generated", gen_counts), ("Validation", val_counts or {}))
        for name in counts if name not in real_counts
    ]
    usable = []
    split = f"{round(100 * (1 - val_fraction))}/{round(100 * val_fraction)}"
    for name, n_real in real_counts.items():
        n_gen = gen_counts.get(name)
        why = ["no generated class of the same name" if n_gen is None
               else "no generated images" if n_gen == 0 else None]
        if n_real == 0:
            why.append("no real images")
        elif val_counts is None and n_real < min_per_class:
            why.append(f"only {n_real} real images, and a {split} split needs at least "
                       f"{min_per_class} (add images or give a separate validation folder)")
        if val_counts is not None:
            n_val = val_counts.get(name)
            why.append("no validation class of the same name" if n_val is None
                       else "no validation images" if n_val == 0 else None)
        why = [w for w in why if w]
        if why:
            problems.append(f"Class '{name}' is left out of GAN-train and GAN-test: "
                            + "; ".join(why) + ".")
            continue
        usable.append(name)
        if n_gen < min_per_class:
            problems.append(f"Class '{name}' has only {n_gen} generated images; "
                            "its per-class accuracies are very noisy.")
    return usable, problems


def compute(
    real_feats: np.ndarray,
    real_labels: np.ndarray,
    gen_feats: np.ndarray,
    gen_labels: np.ndarray,
    class_names: Sequence[str],
    *,
    val_feats: np.ndarray | None = None,
    val_labels: np.ndarray | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
    sweep_points: int | None = None,
    sweep_sizes: Sequence[int] | None = None,
    C: float = 1.0,
    max_iter: int = 1000,
    tol: float = DEFAULT_TOL,
    min_per_class: int = DEFAULT_MIN_PER_CLASS,
    blas_threads: int | None = 1,
    progress: Callable[[float], None] | None = None,
) -> GanClassResult:
    """GAN-train, GAN-test, real baseline, per-class accuracies and the diversity sweep.

    Features are (n, d) arrays (Inception pool3, d = 2048); labels are integers indexing
    `class_names`. Without `val_feats` the real set is split per class with `seed`
    (`val_fraction` to validation, at least one image on each side).

    The sweep (paper Fig. 4) refits the classifier on `size` generated images per class
    (`gan_train` curve) and on `size` real training images per class (`real` curve), both
    scored on real validation. Sizes are `sweep_sizes` if given, else `sweep_points`
    (default 5; 0 for none) log-spaced sizes from 10 up to the smaller side's smallest
    class, plus the larger side's smallest class. A curve holds None where some class has
    fewer than `size` images. Subsets are seeded and nested.

    `blas_threads` caps BLAS/OpenMP threads while fitting (None: leave as is); 1 is the
    default because lbfgs was 20x slower with threaded BLAS on a busy 2-core machine.
    `progress(fraction)` is called after each fit; what it raises propagates (e.g.
    `Cancelled` from `CancelToken.check`). Bad options raise OptionError; too few usable
    classes raise ClassLayoutError; malformed arrays raise ValueError (all ValueErrors).
    """
    if not (C > 0 and math.isfinite(C)):
        raise OptionError(f"C (inverse regularisation strength) must be positive, got {C}.")
    if max_iter < 1:
        raise OptionError(f"max_iter must be at least 1, got {max_iter}.")
    data = _prepare(real_feats, real_labels, gen_feats, gen_labels, class_names,
                    val_feats, val_labels, val_fraction, seed, min_per_class)
    usable, problems, split, (train_x, train_y), (val_x, val_y), (gen_x, gen_y) = data
    k = len(usable)
    n_train_c, n_val_c, n_gen_c = (np.bincount(y, minlength=k) for y in (train_y, val_y, gen_y))
    sizes = _sweep_sizes(sweep_points, sweep_sizes, int(n_gen_c.min()), int(n_train_c.min()))
    # A sweep point that takes every image of its side reuses the main fit.
    n_fits = 2 + sum(c.min() >= s < c.max() for s in sizes for c in (n_gen_c, n_train_c))
    fitter = _Fitter(C, max_iter, tol, n_fits, progress)

    with threadpool_limits(limits=blas_threads):
        base_pred, gtest_pred = fitter.fit(train_x, train_y, "real baseline", val_x, gen_x)
        (gtrain_pred,) = fitter.fit(gen_x, gen_y, "GAN-train", val_x)

        def curve(x, y, n_c, full_pred, stream, what):
            order = _class_orders(y, k, seed, stream)
            out: list[float | None] = []
            for s in sizes:
                if s > n_c.min():
                    out.append(None)
                    continue
                pred = full_pred
                if s < n_c.max():
                    idx = np.sort(np.concatenate([o[:s] for o in order]))
                    (pred,) = fitter.fit(x[idx], y[idx], f"{what} at {s}/class", val_x)
                out.append(float(np.mean(pred == val_y)))
            return out

        sweep = {
            "sizes": list(sizes),
            "gan_train": curve(gen_x, gen_y, n_gen_c, gtrain_pred, _STREAM_SWEEP_GEN, "GAN-train"),
            "real": curve(train_x, train_y, n_train_c, base_pred, _STREAM_SWEEP_REAL, "real"),
        }

    real_baseline = float(np.mean(base_pred == val_y))
    gan_train = float(np.mean(gtrain_pred == val_y))
    gan_test = float(np.mean(gtest_pred == gen_y))
    per_class = {
        name: {
            "gan_train": _recall(gtrain_pred, val_y, i),
            "gan_test": _recall(gtest_pred, gen_y, i),
            "real_baseline": _recall(base_pred, val_y, i),
        }
        for i, name in enumerate(usable)
    }
    counts = {
        name: {"real_train": int(n_train_c[i]), "real_val": int(n_val_c[i]), "gen": int(n_gen_c[i])}
        for i, name in enumerate(usable)
    }
    # Flag beyond twice the binomial standard error of the difference, and at least 5 points.
    se = math.sqrt(real_baseline * (1 - real_baseline) / len(val_y)
                   + gan_test * (1 - gan_test) / len(gen_y))
    margin = max(MEMORISATION_MIN_MARGIN, 2 * se)
    flag = gan_test - real_baseline > margin
    notes = list(problems)
    if flag:
        notes.append(
            f"GAN-test ({gan_test:.1%}) is above the real baseline ({real_baseline:.1%}) by "
            f"more than {margin:.1%}: generated images are easier to classify than real ones. "
            "This is typical of memorised training images, or of images far from class "
            "boundaries with little diversity; read it together with GAN-train."
        )
    if fitter.unconverged:
        notes.append(
            f"The classifier did not converge within max_iter={max_iter} for: "
            f"{', '.join(fitter.unconverged)}. Raise max_iter or lower C."
        )
    return GanClassResult(
        gan_train=gan_train,
        gan_test=gan_test,
        real_baseline=real_baseline,
        chance=1.0 / k,
        classes=tuple(usable),
        excluded_classes=tuple(n for n in class_names if n not in usable),
        per_class=per_class,
        counts=counts,
        sweep=sweep,
        split=split,
        memorisation_flag=bool(flag),
        memorisation_margin=margin,
        warnings=tuple(notes),
        seed=int(seed),
        classifier={"solver": "lbfgs", "C": float(C), "max_iter": int(max_iter), "tol": float(tol)},
        n_features=int(train_x.shape[1]),
    )


def _prepare(real_feats, real_labels, gen_feats, gen_labels, class_names,
             val_feats, val_labels, val_fraction, seed, min_per_class):
    """Validate, drop unusable classes, relabel 0..k-1 and split."""
    names = list(class_names)
    if len(set(names)) != len(names):
        raise ValueError("class_names contains duplicate names.")
    real = _check_set("real", real_feats, real_labels, len(names))
    gen = _check_set("generated", gen_feats, gen_labels, len(names))
    if (val_feats is None) != (val_labels is None):
        raise ValueError("Give both val_feats and val_labels, or neither.")
    val = None if val_feats is None else _check_set("validation", val_feats, val_labels, len(names))
    widths = {s[0].shape[1] for s in (real, gen, val) if s is not None}
    if len(widths) != 1:
        raise ValueError(f"Feature sets have different widths {sorted(widths)}; use one extractor.")

    def counts(y):
        return dict(zip(names, np.bincount(y, minlength=len(names)).tolist()))

    usable, problems = _screen_classes(counts(real[1]), counts(gen[1]),
                                       None if val is None else counts(val[1]),
                                       val_fraction, min_per_class)
    if len(usable) < 2:
        detail = " ".join(problems) or "Only one class was given."
        raise ClassLayoutError(
            f"GAN-train/GAN-test needs at least 2 usable classes, found {len(usable)}. {detail}"
        )
    remap = np.full(len(names), -1)
    remap[[names.index(n) for n in usable]] = np.arange(len(usable))
    real, gen = _keep(real, remap), _keep(gen, remap)
    if val is None:
        tr, va = _split(real[1], len(usable), val_fraction, seed)
        train, val = (real[0][tr], real[1][tr]), (real[0][va], real[1][va])
        split = {"mode": "stratified split of the real set", "val_fraction": val_fraction}
    else:
        train, val = real, _keep(val, remap)
        split = {"mode": "separate real validation set", "val_fraction": None}
    split.update(seed=int(seed), n_real_train=len(train[1]), n_real_val=len(val[1]),
                 n_gen=len(gen[1]))
    return usable, problems, split, train, val, gen


class _Fitter:
    """Fits one classifier per call, counting progress and non-converged fits."""

    def __init__(self, C, max_iter, tol, total, progress):
        self.C, self.max_iter, self.tol = C, max_iter, tol
        self.total, self.done, self.progress = total, 0, progress
        self.unconverged: list[str] = []

    def fit(self, x, y, what, *test_sets):
        """Fit on (x, y) and return a list of predictions, one per test set.

        The scaler is fitted on the training side only. With 3+ classes lbfgs minimises
        the multinomial loss; `penalty` stays at its L2 default so that scikit-learn 1.5
        through 1.9 accept the call without deprecation warnings.
        """
        model = LogisticRegression(C=self.C, solver="lbfgs", max_iter=self.max_iter, tol=self.tol)
        pipeline = make_pipeline(StandardScaler(), model).fit(x, y)
        if model.n_iter_.max() >= self.max_iter:
            self.unconverged.append(what)
        self.done += 1
        if self.progress is not None:
            self.progress(self.done / self.total)
        return [pipeline.predict(t) for t in test_sets]


def _check_set(what, feats, labels, n_classes):
    x, y = np.asarray(feats), np.asarray(labels)
    if x.ndim != 2:
        raise ValueError(f"{what} features must be a 2-d array (images x features), "
                         f"got shape {x.shape}.")
    if y.shape != (x.shape[0],):
        raise ValueError(f"{what} labels must be 1-d with one label per image: "
                         f"{y.shape} vs {x.shape}.")
    if x.shape[0] and not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{what} labels must be integers indexing class_names, got {y.dtype}.")
    y = y.astype(np.intp)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"{what} labels must lie in 0..{n_classes - 1} "
                         "(indices into class_names).")
    if not np.isfinite(x).all():
        raise ValueError(f"{what} features contain NaN or infinite values.")
    # float32 fits in about half the time of float64, with the same accuracy (measured).
    return np.ascontiguousarray(x, dtype=np.float32), y


def _keep(xy, remap):
    """Rows of a usable class, relabelled 0..k-1."""
    y = remap[xy[1]]
    mask = y >= 0
    return xy[0][mask], y[mask]


def _class_orders(y, k, seed, stream):
    """A seeded order of each class's rows; sweep subsets are prefixes, hence nested."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), stream]))
    return [rng.permutation(np.flatnonzero(y == c)) for c in range(k)]


def _split(y, k, val_fraction, seed):
    """Seeded stratified split: per class, round(n * val_fraction) shuffled images go to
    validation, at least 1 and at most n - 1."""
    orders = _class_orders(y, k, seed, _STREAM_SPLIT)
    val = [o[:min(len(o) - 1, max(1, math.floor(len(o) * val_fraction + 0.5)))] for o in orders]
    train = [o[len(v):] for o, v in zip(orders, val)]
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def _sweep_sizes(points, sizes, n_gen_min, n_real_min):
    if sizes is not None:
        out = sorted({int(s) for s in sizes})
        if out and out[0] < 1:
            raise OptionError("sweep_sizes must be positive numbers of images per class.")
        return out
    points = DEFAULT_SWEEP_POINTS if points is None else int(points)
    if points < 0:
        raise OptionError(f"sweep_points must be 0 (no sweep) or more, got {points}.")
    if points == 0:
        return []
    # Both curves share the points up to the smaller side; each ends at its own full size.
    hi, top = sorted((n_gen_min, n_real_min))
    lo = min(SWEEP_MIN_SIZE, hi)
    grid = np.geomspace(lo, hi, points) if points > 1 else [hi]
    return sorted({int(round(v)) for v in grid} | {top})


def _recall(pred, y, c):
    """Accuracy on the test images of class c (every usable class has at least one)."""
    return float(np.mean(pred[y == c] == c))
