"""CLIPScore golden values from torchmetrics 1.9 and jmhessel/clipscore, on seeded stand-ins.

Cases (CASES below): the six seeded images of models.clip.standin.standin_images(0), each with a
prompt: a plain one, one longer than 77 tokens, non-ASCII (accents, Greek capitals, CJK,
emoji), an empty one, odd whitespace (tabs, newlines, no-break and ideographic spaces), HTML
entities (which only OpenAI's clean-up unescapes). Images go through PNG files as a user has
them (the gray one as a one-channel file).

* torchmetrics: a ViT-L/14 stand-in in OpenAI's layout (models.clip.standin, seeded float16,
  full vocabulary; 2 blocks and full depth) read by ``clip.load(path, device="cpu")``, its
  state dict mapped to a Hugging Face ``CLIPModel`` as transformers'
  convert_clip_original_pytorch_to_hf.py maps it (in_proj split in q/k/v, the projections
  transposed, ln_1/ln_2 -> layer_norm1/2, c_fc/c_proj -> fc1/fc2, ln_pre -> pre_layrnorm, ...),
  with the hub config's values for openai/clip-vit-large-patch14 (widths, 77 positions,
  quick_gelu, text bos/eos/pad ids 0/2/1: transformers 4.24's defaults, kept in that
  config.json; eos 2 makes CLIPTextTransformer pool at argmax(input_ids)), saved with
  ``save_pretrained``; the processor: ``CLIPImageProcessor()`` (its defaults are that
  checkpoint's preprocessor values: shortest edge 224, crop 224, bicubic, 1/255, OpenAI mean
  and std; see the class docstring) and ``CLIPTokenizerFast`` on vocab.json + merges.txt written
  from the same bpe file as OpenAI's (``SimpleTokenizer.encoder`` and its merges), saved with
  ``save_pretrained``. ``CLIPModel.from_pretrained`` / ``CLIPProcessor.from_pretrained`` are
  patched to load those folders (their own loading code runs), then torchmetrics'
  ``CLIPScore(model_name_or_path="openai/clip-vit-large-patch14")`` is updated with the images
  as (3, H, W) uint8 tensors and the prompts, and computed.
* hessel: a ViT-B/32 stand-in through jmhessel/clipscore's own ``clipscore.py`` (path given as
  the first argument; a checkout of https://github.com/jmhessel/clipscore): its
  ``extract_all_images`` and ``get_clip_score`` with ``clip.load(path, device="cpu")`` (CPU:
  float32, as its main() runs without a GPU). Its module imports generation_eval_utils
  (pycocoevalcap, for reference-based metrics only): an empty module stands in for it.

Run (reference venv: CLIPSCORE_ONLY=1 REFENV=/work/refenv-clipscore bench/setup_reference_env.sh):

    nice -n 10 /work/refenv-clipscore/bin/python tests/reference/make_clipscore_reference.py \\
        /path/to/clipscore/clipscore.py

Writes tests/fixtures/clipscore/reference.npz and reference.json.
"""
from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import sys
import tempfile
import time
import types
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
from make_dinov2_reference import import_torchvision_transforms  # noqa: E402
from engine.features import clip_preprocess as ours  # noqa: E402
from models.clip.standin import standin_images, write_standin  # noqa: E402
from models.clip.vocab import VOCAB_SHA256  # noqa: E402
from models.clip.weights import spec_for  # noqa: E402

OUT_DIR = ROOT / "tests" / "fixtures" / "clipscore"
LONG = ("a very long caption about a crowded market square at noon where " * 7
        + "vendors sell apples pears plums and bread while children run").strip()
CASES = ["a photo of a cat sitting on a red sofa",
         LONG,
         "Ein Café in München: naïve résumé, ΣΊΣΥΦΟΣ ΟΔΟΣ, 東京の夜景 🌃🐱",
         "",
         "  two\tdogs\n\nplaying\u00a0in the\u3000snow  ",
         "Tom &amp; Jerry&#39;s cartoon &lt;3 &amp;amp; more"]


def torchvision_for_transformers():
    """The transforms without torchvision's compiled ops (see make_dinov2_reference), with a
    module spec so that transformers' availability checks can look at the package."""
    import_torchvision_transforms()
    sys.modules["torchvision"].__spec__ = importlib.machinery.ModuleSpec("torchvision", None,
                                                                         is_package=True)


def write_images(tmp: Path) -> list[Path]:
    from PIL import Image
    paths = []
    for name, arr in standin_images(0):
        im = Image.fromarray(arr[..., 0], "L") if name.endswith("gray") else Image.fromarray(arr, "RGB")
        paths.append(tmp / f"{name}.png")
        im.save(paths[-1])
    return paths


def hf_state_dict(sd: dict) -> dict:
    """OpenAI CLIP state dict -> CLIPModel's, as convert_clip_original_pytorch_to_hf.py."""
    out = {}

    def layers(src: str, dst: str):
        i = 0
        while f"{src}.{i}.ln_1.weight" in sd:
            s, d = f"{src}.{i}.", f"{dst}.{i}."
            q, k, v = sd[s + "attn.in_proj_weight"].chunk(3, dim=0)
            qb, kb, vb = sd[s + "attn.in_proj_bias"].chunk(3, dim=0)
            for n, w, b in (("q", q, qb), ("k", k, kb), ("v", v, vb)):
                out[d + f"self_attn.{n}_proj.weight"], out[d + f"self_attn.{n}_proj.bias"] = w, b
            for a, b in (("attn.out_proj", "self_attn.out_proj"), ("ln_1", "layer_norm1"),
                         ("ln_2", "layer_norm2"), ("mlp.c_fc", "mlp.fc1"), ("mlp.c_proj", "mlp.fc2")):
                out[d + b + ".weight"], out[d + b + ".bias"] = sd[s + a + ".weight"], sd[s + a + ".bias"]
            i += 1
    out["text_projection.weight"] = sd["text_projection"].T
    out["text_model.embeddings.token_embedding.weight"] = sd["token_embedding.weight"]
    out["text_model.embeddings.position_embedding.weight"] = sd["positional_embedding"]
    for p in ("weight", "bias"):
        out[f"text_model.final_layer_norm.{p}"] = sd[f"ln_final.{p}"]
        out[f"vision_model.pre_layrnorm.{p}"] = sd[f"visual.ln_pre.{p}"]
        out[f"vision_model.post_layernorm.{p}"] = sd[f"visual.ln_post.{p}"]
    layers("transformer.resblocks", "text_model.encoder.layers")
    out["visual_projection.weight"] = sd["visual.proj"].T
    out["vision_model.embeddings.patch_embedding.weight"] = sd["visual.conv1.weight"]
    out["vision_model.embeddings.class_embedding"] = sd["visual.class_embedding"]
    out["vision_model.embeddings.position_embedding.weight"] = sd["visual.positional_embedding"]
    layers("visual.transformer.resblocks", "vision_model.encoder.layers")
    out["logit_scale"] = sd["logit_scale"]
    return {k: v.contiguous() for k, v in out.items()}


def hf_folders(weights: Path, depth: int, tmp: Path) -> Path:
    """The converted model and the processor, saved in one folder as the hub lays them out."""
    import clip
    from clip.simple_tokenizer import SimpleTokenizer
    from transformers import (CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor,
                              CLIPTokenizerFast)
    pt_model, _ = clip.load(str(weights), device="cpu", jit=False)
    config = CLIPConfig(
        projection_dim=768,
        text_config=dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                         num_hidden_layers=spec_for("vitl14", depth, True).text_layers,
                         max_position_embeddings=77, vocab_size=49408, hidden_act="quick_gelu",
                         projection_dim=768, bos_token_id=0, eos_token_id=2, pad_token_id=1),
        vision_config=dict(hidden_size=1024, intermediate_size=4096, num_attention_heads=16,
                           num_hidden_layers=depth, patch_size=14, image_size=224,
                           hidden_act="quick_gelu", projection_dim=768))
    hf = CLIPModel(config).eval()
    missing, unexpected = hf.load_state_dict(hf_state_dict(pt_model.state_dict()), strict=False)
    assert not unexpected and all(k.endswith("position_ids") for k in missing), (missing, unexpected)
    folder = tmp / f"hf_vitl14_d{depth}"
    hf.save_pretrained(folder)
    tok = SimpleTokenizer()
    (tmp / "vocab.json").write_text(json.dumps(tok.encoder))
    merges = [" ".join(m) for m in sorted(tok.bpe_ranks, key=tok.bpe_ranks.get)]
    (tmp / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    fast = CLIPTokenizerFast(vocab_file=str(tmp / "vocab.json"), merges_file=str(tmp / "merges.txt"))
    CLIPProcessor(image_processor=CLIPImageProcessor(), tokenizer=fast).save_pretrained(folder)
    return folder


def torchmetrics_run(folder: Path, paths: list[Path]) -> dict:
    import torch
    from PIL import Image
    F = importlib.import_module("torchmetrics.functional.multimodal.clip_score")
    from torchmetrics.multimodal import CLIPScore
    from transformers import CLIPModel, CLIPProcessor
    real = {c: c.from_pretrained for c in (CLIPModel, CLIPProcessor)}
    for c, f in real.items():
        setattr(c, "from_pretrained", classmethod(
            lambda cls, name, *a, _f=f, **k: _f(str(folder), *a, **k)))
    try:
        images = [torch.from_numpy(np.array(Image.open(p).convert("RGB"))).permute(2, 0, 1)
                  for p in paths]  # (3, H, W) uint8
        metric = CLIPScore(model_name_or_path="openai/clip-vit-large-patch14")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            metric.update(images, CASES)
        value = metric.compute()
        before_clamp = float(metric.score / metric.n_samples)  # the module's state, unclamped
        model, processor = metric.model, metric.processor
        dev = torch.device("cpu")
        with torch.no_grad():
            img = F._get_features(images, "image", dev, model, processor)
            txt = F._get_features(list(CASES), "text", dev, model, processor)
            per, _ = F._clip_score_update(images, list(CASES), model, processor)
        tokens = processor(text=list(CASES), return_tensors="pt", padding=True)["input_ids"][:, :77]
        pixels = processor(images=images, return_tensors="pt")["pixel_values"]
        pixels_int64 = processor(images=[i.long() for i in images], return_tensors="pt")["pixel_values"]
    finally:
        for c, f in real.items():
            setattr(c, "from_pretrained", f)
    return {"value": float(value), "mean_before_clamp": before_clamp, "per": per.numpy(), "img": img.numpy(), "txt": txt.numpy(),
            "ids": tokens.numpy(), "pixels": pixels.numpy(),
            "int64_pixels_equal": bool(torch.equal(pixels, pixels_int64)),
            "warnings": [str(w.message) for w in caught], "value_dtype": str(value.dtype)}


def hessel_run(clipscore_py: Path, weights: Path, paths: list[Path]) -> dict:
    import clip
    sys.modules.setdefault("generation_eval_utils", types.ModuleType("generation_eval_utils"))
    spec = importlib.util.spec_from_file_location("clipscore", clipscore_py)
    cs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cs)
    model, _ = clip.load(str(weights), device="cpu", jit=False)
    model.eval()
    files = [str(p) for p in paths]
    img = cs.extract_all_images(files, model, "cpu", batch_size=64, num_workers=0)
    txt = cs.extract_all_captions(list(CASES), model, "cpu", num_workers=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, per, _ = cs.get_clip_score(model, img, list(CASES), "cpu")
    ds = cs.CLIPCapDataset(list(CASES))
    ids = np.stack([ds[i]["caption"].numpy() for i in range(len(CASES))])
    pixels = np.stack([cs.CLIPImageDataset(files)[i]["image"].numpy() for i in range(len(files))])
    return {"value": float(value), "value_dtype": str(np.asarray(value).dtype), "per": per,
            "img": img, "txt": txt, "ids": ids, "pixels": pixels}


def main() -> int:
    torchvision_for_transformers()
    import clip
    import torch
    import torchmetrics
    import transformers
    from importlib.metadata import version
    torch.set_num_threads(2)
    clipscore_py = Path(sys.argv[1])
    vocab = Path(clip.__file__).parent / "bpe_simple_vocab_16e6.txt.gz"
    import hashlib
    assert hashlib.sha256(vocab.read_bytes()).hexdigest() == VOCAB_SHA256
    t0 = time.time()
    out, meta, checks = {}, {"cases": CASES, "conventions": {}}, {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "img").mkdir()
        paths = write_images(tmp / "img")
        meta["images"] = [p.stem for p in paths]
        arrays = [np.asarray(__import__("PIL.Image").Image.open(p).convert("RGB")) for p in paths]
        for depth in (2, 24):
            w = write_standin(tmp / f"vitl14_{depth}.pt", "vitl14", depth=depth, text_vocab=True)
            r = torchmetrics_run(hf_folders(w, depth, tmp), paths)
            key = f"torchmetrics_d{depth}"
            for k in ("per", "img", "txt"):
                out[f"{key}_{k}"] = r[k].astype(np.float32)
            meta["conventions"][key] = {"value": r["value"], "value_dtype": r["value_dtype"],
                                        "mean_before_clamp": r["mean_before_clamp"],
                                        "warnings": r["warnings"]}
            if depth == 2:
                out["torchmetrics_ids"] = r["ids"].astype(np.int64)
                mine = np.stack([ours.preprocess(a, "torchmetrics") for a in arrays])
                checks["preprocess_torchmetrics_max_abs_diff"] = float(np.abs(mine - r["pixels"]).max())
                checks["torchmetrics_int64_images_same_pixels"] = r["int64_pixels_equal"]
            w.unlink()
        w = write_standin(tmp / "vitb32_2.pt", "vitb32", depth=2, text_vocab=True)
        r = hessel_run(clipscore_py, w, paths)
        for k in ("per", "img", "txt"):
            out[f"hessel_d2_{k}"] = np.asarray(r[k], np.float32)
        out["hessel_ids"] = r["ids"].astype(np.int64)
        meta["conventions"]["hessel_d2"] = {"value": r["value"], "value_dtype": r["value_dtype"]}
        from PIL import Image
        mine = np.stack([ours.preprocess(Image.open(p), "hessel") for p in paths])
        checks["preprocess_hessel_max_abs_diff"] = float(np.abs(mine - r["pixels"]).max())
        mine_rgb = np.stack([ours.preprocess(a, "hessel") for a in arrays])
        checks["preprocess_hessel_rgb_arrays_max_abs_diff"] = float(np.abs(mine_rgb - r["pixels"]).max())
        plain = clip.tokenize(["a photo of a cat", "Hello, World!"]).numpy()
        fast = out["torchmetrics_ids"]
        checks["hf_fast_equals_clip_tokenize_plain_prompt"] = bool(
            np.array_equal(fast[0, :int(np.argmax(fast[0])) + 1],
                           clip.tokenize([CASES[0]]).numpy()[0, :int(np.argmax(fast[0])) + 1]))
        checks["clip_tokenize_examples"] = plain[:, :8].tolist()
    meta.update({
        "generator": "tests/reference/make_clipscore_reference.py",
        "checks": checks,
        "truncated": {"torchmetrics": [i for i, c in enumerate(out["torchmetrics_ids"]) if 49407 not in c],
                      "hessel": [i for i, c in enumerate(out["hessel_ids"]) if c[-1] == 49407]},
        "versions": {"torch": torch.__version__, "torchmetrics": torchmetrics.__version__,
                     "transformers": transformers.__version__, "tokenizers": version("tokenizers"),
                     "clip-anytorch": version("clip-anytorch"), "ftfy": version("ftfy"),
                     "numpy": np.__version__, "pillow": version("pillow"),
                     "clipscore_py_sha256": hashlib.sha256(clipscore_py.read_bytes()).hexdigest()},
        "seconds": round(time.time() - t0, 1)})
    np.savez_compressed(OUT_DIR / "reference.npz", **out)
    (OUT_DIR / "reference.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(meta, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
