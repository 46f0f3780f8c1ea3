"""GAN-train / GAN-test through the whole job on real images in class sub-folders."""
import shutil

import pytest

from engine.run.job import run
from engine.run.options import Options
from imagegen import make_folder
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)

CLASSES = {"reds": 0, "greens": 90, "blues": 180}


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    root = tmp_path_factory.mktemp("classes") / "real"
    for i, (name, shift) in enumerate(CLASSES.items()):
        make_folder(root / name, 15, seed=10 + i, size=(32, 32), shift=shift)
    return root


def test_copies_of_real_images_flag_memorisation(real, model_path, tmp_path):
    gen = tmp_path / "gen"
    shutil.copytree(real, gen)
    r = run(real, [gen], Options(metrics=("gan-train", "gan-test"), device="cpu")).results[0]
    m = r.metrics
    # copies of the real set: GAN-test near 100% and at least the real baseline
    assert m["gan_test"] >= 0.95 and m["gan_test"] >= m["real_baseline"]
    assert set(m["per_class"]) == set(CLASSES)
    assert m["sweep"]["sizes"] and len(m["sweep"]["gan_train"]) == len(m["sweep"]["sizes"])
    assert "Linear probe" in r.extras["gan_method"]
    assert m["fid"] is None  # not asked for


def test_missing_class_and_loose_files_are_reported(real, model_path, tmp_path):
    gen = tmp_path / "gen"
    shutil.copytree(real / "reds", gen / "reds")
    shutil.copytree(real / "greens", gen / "greens")
    make_folder(gen / "purples", 4, seed=3, size=(32, 32))
    make_folder(gen, 2, seed=4, size=(32, 32), prefix="loose")
    r = run(real, [gen], Options(metrics=("gan-train",), device="cpu")).results[0]
    text = " ".join(r.warnings)
    assert "blues" in text and "purples" in text and "not inside a class sub-folder" in text
    assert r.metrics["gan_train"] is not None
