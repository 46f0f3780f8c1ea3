"""GAN-train / GAN-test on constructed features whose answer is known.

Features: K Gaussian clusters in 2048-d with overlap chosen so that the real baseline of
the linear probe lands near 0.75-0.8 with 80 images per class. Generated sets are built
from the same distribution (answer: the baseline), from copies of the real training set
(answer: GAN-test ~1, memorisation flagged) or with wrong labels (answer: chance, or
below chance for a fixed wrong mapping).
"""

import json

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from engine.errors import FidStudioError, OptionError
from engine.metrics import gan_classes as gc

K, D, N = 5, 2048, 80
NAMES = [f"class_{i}" for i in range(K)]
SEPARATION = 0.08  # scale of the class means against unit noise


def clusters(n_per_class, rng, means):
    y = np.repeat(np.arange(K), n_per_class)
    return (means[y] + rng.normal(size=(len(y), D))).astype(np.float32), y


@pytest.fixture(scope="module")
def sets():
    rng = np.random.default_rng(1234)
    means = rng.normal(size=(K, D)) * SEPARATION
    train, val, held_out = (clusters(N, rng, means) for _ in range(3))
    return {"train": train, "val": val, "held_out": held_out}


def run(sets, gen, **kw):
    (tx, ty), (vx, vy) = sets["train"], sets["val"]
    kw.setdefault("sweep_points", 0)
    return gc.compute(tx, ty, gen[0], gen[1], NAMES, val_feats=vx, val_labels=vy, **kw)


@pytest.fixture(scope="module")
def held_out(sets):
    return run(sets, sets["held_out"])


def test_real_baseline_is_in_the_intended_range(held_out):
    assert 0.7 <= held_out.real_baseline <= 0.9
    assert held_out.chance == pytest.approx(1 / K)


def test_held_out_real_images_score_like_the_real_baseline(held_out):
    assert held_out.gan_train == pytest.approx(held_out.real_baseline, abs=0.08)
    assert held_out.gan_test == pytest.approx(held_out.real_baseline, abs=0.08)
    assert not held_out.memorisation_flag
    assert held_out.warnings == ()


def test_copies_of_training_images_are_flagged_as_memorised(sets):
    r = run(sets, sets["train"])
    assert r.gan_test >= 0.99
    assert r.gan_test > r.real_baseline + r.memorisation_margin
    assert r.memorisation_flag
    assert any("memorised" in w for w in r.warnings)
    # Same training set, same model: GAN-train equals the baseline exactly.
    assert r.gan_train == r.real_baseline


def test_shuffled_labels_score_near_chance(sets):
    x, y = sets["held_out"]
    r = run(sets, (x, np.random.default_rng(5).permutation(y)))
    assert r.gan_train == pytest.approx(r.chance, abs=0.1)
    assert r.gan_test == pytest.approx(r.chance, abs=0.1)
    assert r.real_baseline > 0.7


def test_systematically_wrong_classes_score_below_chance(sets):
    x, y = sets["held_out"]
    r = run(sets, (x, (y + 1) % K))  # every image filed under the next class
    assert r.gan_train < 0.1 and r.gan_test < 0.1
    assert all(v["gan_test"] < 0.25 for v in r.per_class.values())


def test_per_class_accuracies_average_to_the_totals(held_out):
    # Balanced test sets: the overall accuracy is the mean of the per-class ones.
    assert list(held_out.per_class) == NAMES
    for key in ("gan_train", "gan_test", "real_baseline"):
        mean = np.mean([v[key] for v in held_out.per_class.values()])
        assert mean == pytest.approx(getattr(held_out, key), abs=1e-12)
    assert held_out.counts["class_0"] == {"real_train": N, "real_val": N, "gen": N}


def test_same_seed_same_result_and_seed_changes_the_split(sets):
    (tx, ty), (gx, gy) = sets["train"], sets["held_out"]
    a = gc.compute(tx, ty, gx, gy, NAMES, seed=3, sweep_points=3)
    b = gc.compute(tx, ty, gx, gy, NAMES, seed=3, sweep_points=3)
    assert a.to_dict() == b.to_dict()
    c = gc.compute(tx, ty, gx, gy, NAMES, seed=4, sweep_points=3)
    assert (c.per_class, c.sweep) != (a.per_class, a.sweep)


def test_sweep_settings_do_not_change_the_split(sets):
    (tx, ty), (gx, gy) = sets["train"], sets["held_out"]
    a = gc.compute(tx, ty, gx, gy, NAMES, sweep_points=0)
    b = gc.compute(tx, ty, gx, gy, NAMES, sweep_points=4)
    assert (a.gan_train, a.gan_test, a.real_baseline) == (b.gan_train, b.gan_test, b.real_baseline)


def test_stratified_split_is_recorded_and_per_class(sets):
    (tx, ty), (gx, gy) = sets["train"], sets["held_out"]
    r = gc.compute(tx, ty, gx, gy, NAMES, val_fraction=0.25, sweep_points=0)
    assert r.split["mode"] == "stratified split of the real set"
    assert r.split["val_fraction"] == 0.25 and r.split["seed"] == 0
    assert r.split["n_real_train"] == K * 60 and r.split["n_real_val"] == K * 20
    assert all(c == {"real_train": 60, "real_val": 20, "gen": N} for c in r.counts.values())


def test_split_is_disjoint_and_covers_every_image():
    y = np.repeat(np.arange(3), [5, 7, 40])
    train, val = gc._split(y, 3, 0.2, seed=9)
    assert np.intersect1d(train, val).size == 0
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(len(y)))
    assert np.bincount(y[val]).tolist() == [1, 1, 8]


def test_sweep_curves_grow_with_the_number_of_images(sets):
    r = run(sets, sets["held_out"], sweep_points=4)
    sizes = r.sweep["sizes"]
    assert sizes == sorted(set(sizes)) and sizes[0] == gc.SWEEP_MIN_SIZE and sizes[-1] == N
    assert len(r.sweep["gan_train"]) == len(r.sweep["real"]) == len(sizes)
    assert r.sweep["real"][-1] == r.real_baseline  # the full set reuses the main fit
    assert r.sweep["gan_train"][-1] == r.gan_train
    assert r.sweep["gan_train"][-1] > r.sweep["gan_train"][0] + 0.15
    assert r.sweep["real"][-1] > r.sweep["real"][0] + 0.15


def test_sweep_marks_sizes_a_side_cannot_reach(sets):
    (x, y) = sets["held_out"]
    keep = np.flatnonzero((y != 0) | (np.arange(len(y)) % N < 30))  # class 0: 30 images
    r = run(sets, (x[keep], y[keep]), sweep_sizes=[10, 30, 50])
    assert r.sweep["sizes"] == [10, 30, 50]
    assert r.sweep["gan_train"][2] is None and r.sweep["gan_train"][1] is not None
    assert None not in r.sweep["real"]


def test_automatic_sweep_ends_at_each_sides_full_size():
    assert gc._sweep_sizes(None, None, n_gen_min=500, n_real_min=400) == [10, 25, 63, 159, 400, 500]
    assert gc._sweep_sizes(3, None, n_gen_min=6, n_real_min=6) == [6]
    assert gc._sweep_sizes(0, None, n_gen_min=500, n_real_min=400) == []


def test_check_classes_reports_layout_problems_plainly():
    problems = gc.check_classes(
        {"cat": 50, "dog": 3, "fox": 0, "owl": 40},
        {"cat": 50, "dog": 50, "fox": 10, "cow": 20},
    )
    text = "\n".join(problems)
    assert "Generated class 'cow' has no real class" in text
    assert "'dog'" in text and "only 3 real images" in text
    assert "80/20 split needs at least 5" in text
    assert "'fox'" in text and "no real images" in text
    assert "'owl'" in text and "no generated class of the same name" in text
    assert "'cat'" not in text
    assert gc.check_classes({"a": 10, "b": 10}, {"a": 10, "b": 10}) == []


def test_check_classes_with_a_validation_folder():
    problems = gc.check_classes({"a": 3, "b": 3}, {"a": 9, "b": 9}, {"a": 0, "c": 2})
    text = "\n".join(problems)
    assert "Validation class 'c' has no real class" in text
    assert "Class 'a' is left out" in text and "no validation images" in text
    assert "Class 'b' is left out" in text and "no validation class" in text
    assert "split" not in text  # 3 real images are enough when nothing is split off


def test_unusable_classes_are_left_out_and_reported(sets):
    (tx, ty), (gx, gy) = sets["train"], sets["held_out"]
    names = NAMES + ["empty"]
    r = gc.compute(tx, ty, gx, gy, names, sweep_points=0)
    assert r.classes == tuple(NAMES) and r.excluded_classes == ("empty",)
    assert r.chance == pytest.approx(1 / K)
    assert any("'empty'" in w for w in r.warnings)


def test_fewer_than_two_usable_classes_is_an_actionable_error(sets):
    (tx, ty), (gx, gy) = sets["train"], sets["held_out"]
    only_class_0 = "at least 2 usable classes.*class_1.*no generated images"
    with pytest.raises(ValueError, match=only_class_0) as e:
        gc.compute(tx, ty, gx[gy == 0], gy[gy == 0], NAMES)
    assert isinstance(e.value, FidStudioError)  # shown to the user as is


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(real_feats=np.zeros(10)), "2-d array"),
        (dict(real_labels=np.zeros(3, dtype=int)), "one label per image"),
        (dict(gen_labels=None), "one label per image"),
        (dict(real_labels="labels"), "one label per image"),
        (dict(gen_feats=np.zeros((K * N, 10))), "different widths"),
        (dict(class_names=NAMES[:3]), r"lie in 0\.\.2"),
        (dict(class_names=["a"] * K), "duplicate"),
        (dict(val_feats=np.zeros((4, D))), "both val_feats and val_labels"),
    ],
)
def test_malformed_arrays_raise_value_errors(sets, change, match):
    (tx, ty), (gx, gy) = sets["train"], sets["held_out"]
    args = dict(real_feats=tx, real_labels=ty, gen_feats=gx, gen_labels=gy, class_names=NAMES)
    args.update(change)
    with pytest.raises(ValueError, match=match):
        gc.compute(**args)


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(C=0.0), "C .*positive"),
        (dict(C=float("nan")), "C .*positive"),
        (dict(max_iter=0), "max_iter"),
        (dict(val_fraction=1.0), "val_fraction"),
        (dict(min_per_class=1), "min_per_class"),
        (dict(sweep_points=-1), "sweep_points"),
        (dict(sweep_sizes=[0, 5]), "sweep_sizes"),
    ],
)
def test_bad_options_raise_option_errors_naming_the_option(sets, change, match):
    (tx, ty), (gx, gy) = sets["train"], sets["held_out"]
    with pytest.raises(OptionError, match=match):
        gc.compute(tx, ty, gx, gy, NAMES, **change)


def test_nan_features_are_rejected(sets):
    (tx, ty), (gx, gy) = sets["train"], sets["held_out"]
    bad = gx.copy()
    bad[3, 7] = np.nan
    with pytest.raises(ValueError, match="generated features contain NaN"):
        gc.compute(tx, ty, bad, gy, NAMES)


def test_to_dict_is_json_with_the_documented_keys(held_out):
    d = json.loads(json.dumps(held_out.to_dict()))
    for key in ("gan_train", "gan_test", "real_baseline", "per_class", "sweep", "split",
                "chance", "memorisation_flag", "warnings", "method", "seed", "classifier"):
        assert key in d
    assert set(d["sweep"]) == {"sizes", "gan_train", "real"}
    assert set(d["per_class"]["class_0"]) == {"gan_train", "gan_test", "real_baseline"}
    assert "Inception pool3" in d["method"] and "not the CNN" in d["method"]


def test_result_is_frozen(held_out):
    with pytest.raises(AttributeError):
        held_out.gan_train = 1.0


def test_two_classes_and_float64_lists_are_accepted():
    rng = np.random.default_rng(0)
    means = rng.normal(size=(2, 64))
    y = np.repeat([0, 1], 30)
    x = means[y] + rng.normal(size=(60, 64))
    r = gc.compute(x.tolist(), y.tolist(), x, y, ["a", "b"], sweep_points=2)
    assert r.chance == 0.5 and r.n_features == 64
    assert 0.0 <= r.gan_train <= 1.0


def test_progress_reaches_one_and_an_exception_from_it_cancels(sets):
    seen = []
    run(sets, sets["held_out"], sweep_points=3, progress=seen.append)
    # 2 main fits + 2 smaller sizes per curve; the full size reuses the main fit.
    assert len(seen) == 6 and seen == sorted(seen) and seen[-1] == 1.0

    class Cancelled(Exception):
        pass

    def cancel(fraction):
        raise Cancelled

    before = [i["num_threads"] for i in threadpool_info()]
    with pytest.raises(Cancelled):
        run(sets, sets["held_out"], progress=cancel)
    assert [i["num_threads"] for i in threadpool_info()] == before
