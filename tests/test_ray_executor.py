"""The Ray executor on a real local Ray instance: same numbers as a local run, killed
workers recovered (never silently fewer images), cancel, and a clear line without Ray."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import ray

from engine.errors import Cancelled, CancelToken
from engine.distributed.workers import KILL_ENV
from engine.run.events import Progress
from engine.run.job import run
from engine.run.options import Options
from imagegen import make_folder
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)

ROOT = Path(__file__).resolve().parents[1]
# Ray Data warns about its own deprecated context fields when it copies the context
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")


@pytest.fixture(scope="module")
def ray_instance():
    # one small instance for the module; start-up on loaded cores is slow, so only once
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=128 * 2**20,
             log_to_driver=False, configure_logging=False)
    yield
    # No ray.shutdown() here: after it, the driver's own GCS client in this process keeps
    # retrying, and 60 s later (gcs_rpc_server_reconnect_timeout_s) it ends the process with
    # exit code 1 and no output, in the middle of whatever test runs then (seen: the pytest
    # run stopped silently two test files later). The instance lives until the test process
    # exits, as it does in the app (engine.distributed.cluster never shuts Ray down), and
    # Ray's own exit handler stops it then.


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("raysets")
    ref = make_folder(root / "ref", 12, seed=1, size=(40, 36))
    gen = make_folder(root / "gen", 10, seed=2, size=(40, 36), shift=60)
    (gen / "zz_broken.png").write_bytes(b"not an image at all")
    shutil.copy(gen / "img_0003.png", gen / "caf\udce9.png")   # a name that is not UTF-8
    return ref, gen


OPTS = Options(metrics=("fid", "kid", "pr"), batch_size=4, workers=2, use_cache=False,
               kid_subsets=10, device="cpu")


@pytest.fixture(scope="module")
def local_result(sets, model_path):
    return run(*sets[:1], [sets[1]], OPTS, model_path=model_path)


def _same(a, b):
    ra, rb = a.results[0], b.results[0]
    assert rb.n_images == ra.n_images == 11
    assert rb.skipped == ra.skipped and len(ra.skipped) == 1
    assert b.reference["n_images"] == a.reference["n_images"] == 12
    for key in ("fid", "kid_mean", "kid_std", "precision", "recall", "density", "coverage"):
        assert rb.metrics[key] == pytest.approx(ra.metrics[key], rel=1e-9, abs=1e-15), key
    assert ra.metrics["fid"] > 1.0


@pytest.mark.slow   # a real Ray instance: the slow tier
def test_ray_run_equals_local_run(ray_instance, sets, local_result, model_path):
    events = []
    result = run(sets[0], [sets[1]], OPTS.replace(executor="ray"), model_path=model_path,
                 on_event=events.append)
    _same(local_result, result)
    assert result.options["executor"] == "ray"
    assert result.device_line.startswith("Running on Ray at ")
    gen_progress = [e for e in events if isinstance(e, Progress) and e.role == "generated"]
    assert gen_progress[-1].done == gen_progress[-1].total == 12
    assert sum(len(e.new_skipped) for e in gen_progress) == 1
    # several shards came back and were merged (progress rose in steps)
    assert len({e.done for e in gen_progress}) >= 2


@pytest.mark.slow   # a real Ray instance: the slow tier
def test_killed_actor_is_restarted_and_no_image_is_lost(ray_instance, sets, inference_model, tmp_path,
                                                        monkeypatch):
    from engine.features.pipeline import extract
    from engine.features.presets import get_preset
    from engine.inputs.sources import open_source
    src, preset = open_source(sets[1]), get_preset("clean")
    local = extract(src, preset, inference_model, OPTS, cache_root=tmp_path / "a")
    marker = tmp_path / "killed-once"
    monkeypatch.setenv(KILL_ENV, f"1:{marker}")
    on_ray = extract(src, preset, inference_model, OPTS.replace(executor="ray"), cache_root=tmp_path / "b")
    assert marker.exists()               # an actor really died after its first shard...
    assert on_ray.files == local.files and on_ray.skipped == local.skipped and on_ray.n == 11
    np.testing.assert_allclose(on_ray.features, local.features, rtol=1e-6, atol=1e-7)   # ...nothing dropped
    np.testing.assert_allclose(on_ray.stats.sigma, local.stats.sigma, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(on_ray.stats.mu, local.stats.mu, rtol=1e-9, atol=1e-12)


@pytest.mark.slow   # a real Ray instance: the slow tier
def test_an_image_array_on_ray_equals_threads(ray_instance, inference_model, tmp_path):
    """An .npz batch: Ray's tasks read it in place by byte offset, as threads and processes
    do; a compressed member (forward-only) is refused in one line before any work."""
    from engine.errors import InputError
    from engine.features.pipeline import extract
    from engine.features.presets import get_preset
    from engine.inputs.sources import open_source
    from imagegen import make_image
    rng = np.random.default_rng(7)
    x = np.stack([np.asarray(make_image(rng, (40, 36), shift=40)) for _ in range(10)])
    np.savez(tmp_path / "gen.npz", x)
    src, preset = open_source(tmp_path / "gen.npz"), get_preset("clean")
    local = extract(src, preset, inference_model, OPTS)
    on_ray = extract(src, preset, inference_model, OPTS.replace(executor="ray"))
    assert on_ray.files == local.files and len(local.files) == 10 and on_ray.skipped == local.skipped == []
    # the same tolerances as a folder on Ray: one ONNX Runtime thread per actor there
    np.testing.assert_allclose(on_ray.features, local.features, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(on_ray.stats.sigma, local.stats.sigma, rtol=1e-9, atol=1e-12)
    np.savez_compressed(tmp_path / "gen_c.npz", x)
    with pytest.raises(InputError, match="cannot be shared out to Ray workers"):
        extract(open_source(tmp_path / "gen_c.npz"), preset, inference_model, OPTS.replace(executor="ray"))


@pytest.mark.slow   # a real Ray instance: the slow tier
def test_a_crash_that_repeats_is_reported_not_dropped(ray_instance, sets, inference_model, tmp_path,
                                                      monkeypatch):
    from engine.distributed import ExecutorError
    from engine.features.pipeline import extract
    from engine.features.presets import get_preset
    from engine.inputs.sources import open_source
    monkeypatch.setenv(KILL_ENV, "0:")    # every actor dies at its first shard, every time
    with pytest.raises(ExecutorError, match="the Ray run failed"):
        extract(open_source(sets[1]), get_preset("clean"), inference_model,
                OPTS.replace(executor="ray"), cache_root=tmp_path)
    assert not (tmp_path / "features").exists()       # no partial cache entry


@pytest.mark.slow   # a real Ray instance: the slow tier
def test_cancel_stops_a_ray_run(ray_instance, sets, model_path):
    token = CancelToken()

    def on_event(e):
        if isinstance(e, Progress):
            token.cancel()
    with pytest.raises(Cancelled):
        run(sets[0], [sets[1]], OPTS.replace(executor="ray", metrics=("fid",)), model_path=model_path,
            on_event=on_event, cancel=token)


def test_without_ray_one_line_and_exit_2(sets, tmp_path):
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'ray' or name.startswith('ray.'):\n"
            "            raise ImportError('blocked: ' + name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "from cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    env = dict(os.environ, FID_STUDIO_CACHE_DIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", code, "compute", str(sets[0]), str(sets[1]),
                           "--executor", "ray", "--no-cache"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "ray[data]==" in errors[0] and "--executor local" in errors[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""
