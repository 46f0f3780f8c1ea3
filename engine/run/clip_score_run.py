"""CLIPScore in a run: the generated images' features from CLIP's image tower (a feature space
fed in the same decode pass as every other model, generated side only), their prompts
(engine/inputs/prompts.py) through the tokenizer (engine/features/clip_text.py) and the text
tower (batches of ``batch_size``), and the score of the chosen convention
(engine/metrics/clip_score.py). The reference is not used.

Null with the plain reason when the image tower, the text tower, the tokenizer's vocabulary or
the prompts are missing (which one is said); images without a prompt are left out and counted.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import FidStudioError
from ..features.spaces import CLIPSCORE_SPACES, get_space
from ..inputs.prompts import Prompts, drop_consumed, read_prompts
from .result import skipped_records

LABEL = "CLIPScore"
LOWEST_IN_SUMMARY = 5
VOCAB_MISSING = ("CLIP tokenizer vocabulary (clip_bpe_vocab.txt.gz) not found "
                 "(python main.py model vocab)")
# the Options field that overrides each text tower's file (tests, scripts)
TEXT_PATH_OPTION = {"vitl14": "clip_vitl14_text_model_path", "vitb32": "clip_text_model_path"}


@dataclass
class ClipScoreSetup:
    convention: str
    variant: str                 # "vitl14" | "vitb32"
    space: str                   # the image tower's feature space
    text: object = None          # engine.features.text_encoder.TextEncoder
    missing: str | None = None   # why no CLIPScore can be computed in this run
    record: dict = field(default_factory=dict)


def _text_path(opts, variant):
    path = getattr(opts, TEXT_PATH_OPTION[variant])
    if path is None:
        import models
        from models.clip.text_files import text_model_file
        path = models.find_model(text_model_file(variant))
    return path


def missing_part(opts) -> str | None:
    """Why CLIPScore of ``opts.clip_score_convention`` cannot run here (its image tower, text
    tower or the vocabulary not found), else None; cheap (no session), for the GUI's options."""
    from ..metrics.clip_score import CONVENTION_NETWORK
    from models.clip.vocab import find_vocab
    import models
    variant = CONVENTION_NETWORK[opts.clip_score_convention]
    space = get_space(CLIPSCORE_SPACES[opts.clip_score_convention])
    if (getattr(opts, space.path_option) or models.find_model(space.model_file)) is None:
        return space.missing_reason
    if _text_path(opts, variant) is None:
        return f"{space.label} text encoder not added ({space.build})"
    return VOCAB_MISSING if find_vocab() is None else None


def load(opts, spaces) -> ClipScoreSetup:
    """The text tower and the vocabulary of ``opts.clip_score_convention``; what is missing is
    said in ``missing`` (the image tower's absence comes from ``spaces``), never raised."""
    from ..metrics.clip_score import CONVENTION_NETWORK
    from models.clip.vocab import find_vocab
    conv = opts.clip_score_convention
    variant, name = CONVENTION_NETWORK[conv], CLIPSCORE_SPACES[conv]
    space = get_space(name)
    setup = ClipScoreSetup(conv, variant, name, record=spaces.records.setdefault(name, {}))
    if name in spaces.missing:
        setup.missing = spaces.missing[name]
        return setup
    path = _text_path(opts, variant)
    if path is None:
        setup.missing = f"{space.label} text encoder not added ({space.build})"
        return setup
    vocab = find_vocab()
    if vocab is None:
        setup.missing = VOCAB_MISSING
        return setup
    from ..features.inference import file_sha256
    from ..features.text_encoder import TextEncoder
    from .space_models import _provenance
    try:
        setup.text = TextEncoder(path, opts.device, build_hint=space.build)
    except FidStudioError as exc:
        setup.missing = str(exc)
        return setup
    prov = _provenance(path)
    setup.record.update(text_model=str(path), text_model_sha256=setup.text.sha256,
                        text_weights_sha256=prov.get("source_sha256"), vocab=str(vocab),
                        vocab_sha256=file_sha256(vocab))
    return setup


def prompts_of(setup: ClipScoreSetup | None, src) -> Prompts | None:
    """The prompts of generated source ``src`` when CLIPScore can run (else None); prompt files
    are taken out of the source's "non-image files ignored" warning."""
    if setup is None or setup.missing:
        return None
    prompts = read_prompts(src)
    drop_consumed(src, prompts)
    return prompts


def compute(opts, setup: ClipScoreSetup, prompts: Prompts | None, gen_all: dict, res, cancel=None) -> None:
    """``res.metrics["clip_score"]``, its record in ``res.extras["clip_score"]`` and the
    per-image scores in ``res.clip_scores``; null with the reason when it cannot be computed."""
    from ..metrics.clip_score import clip_score
    conv = get_space(setup.space).convention(setup.convention)
    info = {"convention": setup.convention, "network": get_space(setup.space).network, "equals": conv.equals}
    res.extras["clip_score"] = info
    if setup.missing:
        res.warnings.append(f"{LABEL} not computed: {setup.missing}")
        return
    ext = gen_all.get(setup.space)
    if ext is None or getattr(ext, "features", None) is None:
        res.warnings.append(f"{LABEL} not computed: the generated side is a stats file ({LABEL} "
                            "needs the images and their prompts)")
        return
    info["prompts_from"] = prompts.form
    info["prompt_problems"] = skipped_records(prompts.records)
    res.warnings.extend(prompts.notes)
    if prompts.unavailable:
        res.warnings.append(f"{LABEL} not computed: {prompts.unavailable}")
        return
    rows = [i for i, f in enumerate(ext.files) if f in prompts.prompts]
    n_without = len(ext.files) - len(rows)
    info.update(n_images=len(rows), n_without_prompt=n_without)
    if not rows:
        res.warnings.append(f"{LABEL} not computed: none of the {len(ext.files)} image(s) has a prompt "
                            f"({prompts.form})")
        return
    files = [ext.files[i] for i in rows]
    texts = [prompts.prompts[f] for f in files]
    from ..features.clip_text import tokenize_prompts
    try:
        tokens = tokenize_prompts(texts, setup.convention)
        text_features = setup.text.encode(tokens.ids, opts.batch_size, cancel)
    except FidStudioError as exc:
        res.warnings.append(f"{LABEL} not computed: {exc}")
        return
    value = clip_score(np.asarray(ext.features[np.asarray(rows)]), text_features, setup.convention)
    res.metrics["clip_score"] = float(value.value)
    truncated = np.asarray(tokens.truncated, bool)
    info["n_truncated"] = int(truncated.sum())
    res.warnings.extend(f"{LABEL}: {w}" for w in tokens.warnings)
    if n_without:
        res.warnings.append(f"{LABEL}: {n_without} image(s) without a prompt not scored "
                            "(extras.clip_score.prompt_problems names them)")
    per = np.asarray(value.per_image, np.float64)
    res.clip_scores = [(f, float(s), t, bool(c)) for f, s, t, c in zip(files, per, texts, truncated)]
    info["lowest"] = [{"file": files[i], "clip_score": float(per[i]), "prompt": texts[i]}
                      for i in np.argsort(per, kind="stable")[:LOWEST_IN_SUMMARY]]
    if res.per_image is not None:
        res.per_image.add_clip_scores(res.clip_scores)
