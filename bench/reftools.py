"""Runs one reference tool on two folders (inside the reference venv) and prints JSON.

    python bench/reftools.py pytorch-fid REF GEN
    python bench/reftools.py clean-fid REF GEN
"""
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reference"))
import _refcommon as rc  # noqa: E402


def main():
    tool, ref, gen = sys.argv[1:4]
    os.environ.setdefault("TORCH_HOME", str(rc.TORCH_HOME))
    t0 = time.perf_counter()
    import torch
    torch.set_num_threads(os.cpu_count() or 1)
    if tool == "pytorch-fid":
        from pytorch_fid.fid_score import calculate_fid_given_paths
        fid = calculate_fid_given_paths([ref, gen], batch_size=50, device="cpu", dims=2048,
                                        num_workers=min(2, os.cpu_count() or 1))
    elif tool == "clean-fid":
        from cleanfid import fid as cfid
        extractor = rc.CleanExtractor.make(rc.load_ts())
        fid = cfid.compute_fid(ref, gen, mode="clean", custom_feat_extractor=extractor,
                               num_workers=min(2, os.cpu_count() or 1), batch_size=32,
                               device=torch.device("cpu"), verbose=False)
    else:
        raise SystemExit(f"unknown tool {tool}")
    print(json.dumps({"tool": tool, "fid": float(fid), "seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
