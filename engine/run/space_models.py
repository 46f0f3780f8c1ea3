"""The feature spaces one run feeds: their models, conventions and what results record of them,
and the distance metric of each space besides Inception's FID (``fd_dinov2``, ``clip_fid``:
Fréchet distances; ``cmmd``: the MMD of the embeddings).

Which spaces a run needs follows from its options (``Options.spaces_needed``): FID and its
family, IS and GAN-train/test need Inception; ``fd_dinov2`` needs DINOv2, ``clip_fid`` CLIP
ViT-B/32, ``cmmd`` CLIP ViT-L/14@336; KID, precision/recall, density/coverage and the per-image
scores need the space of ``feature_space``. A space other than Inception whose model is missing
(or that the Ray executor cannot run) leaves its metric null with the reason; asking for it as
``feature_space`` is then a fatal error.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..errors import ModelError
from ..features.pipeline import SpaceRequest
from ..features.presets import get_preset
from ..features.spaces import DISTANCE_METRICS, FRECHET, SPACE_METRICS, get_space, tag
from ..metrics import cmmd as cmmd_metric
from ..metrics import fid as fid_metric


def convention_of(opts, space):
    """The convention a run uses in ``space``: the preset for Inception, else the option
    ``<space>_convention`` (``dinov2_convention``)."""
    if space.name == "inception":
        return get_preset(opts.preset)
    return space.convention(getattr(opts, f"{space.name}_convention", None))


def _provenance(path) -> dict:
    from models.common.files import provenance_path
    try:
        prov = json.loads(provenance_path(path).read_text())
    except (OSError, ValueError):
        return {}
    return prov if isinstance(prov, dict) else {}


@dataclass
class SpaceModels:
    models: dict = field(default_factory=dict)        # space name -> loaded model
    missing: dict = field(default_factory=dict)       # space name -> why it cannot run
    records: dict = field(default_factory=dict)       # space name -> what results record

    def requests(self, opts) -> list:
        """SpaceRequests for every space that can run, Inception first."""
        return [SpaceRequest(get_space(name), convention_of(opts, get_space(name)), model)
                for name, model in self.models.items()]


def load(opts, inception_model, on_ray: bool) -> SpaceModels:
    """Models of the spaces this run needs. Raises ModelError (one line) when the chosen
    ``feature_space`` cannot run."""
    from ..features.inference import InferenceModel
    out = SpaceModels()
    by_path = {}     # one session per model file (CLIP-FID and CLIPScore hessel share ViT-B/32)
    for name in opts.spaces_needed():
        space = get_space(name)
        conv = convention_of(opts, space)
        record = {"network": space.network, "convention": conv.name, "equals": conv.equals,
                  "dim": space.dim}
        out.records[name] = record
        if name == "inception":
            if inception_model is not None:
                out.models[name] = inception_model
                record["model_sha256"] = inception_model.sha256
            continue
        path = getattr(opts, space.path_option) if space.path_option else None
        if path is None:
            import models
            path = models.find_model(space.model_file)
        if on_ray:
            reason = (f"{space.label} features are not computed on the Ray executor (it runs the "
                      "Inception model only); use --executor local")
        elif path is None:
            reason = space.missing_reason
        else:
            reason = None
        if reason is None:
            model = by_path.get(str(path)) or InferenceModel(path, opts.device, precision=opts.precision,
                                                             build_hint=space.build)
            by_path[str(path)] = model
            prov = _provenance(path)
            out.models[name] = model
            record.update(model=str(path), model_sha256=model.sha256,
                          weights_sha256=prov.get("source_sha256"), weights_file=prov.get("source_file"),
                          depth=prov.get("depth"))
        else:
            record["unavailable"] = reason
            out.missing[name] = reason
            if opts.feature_space == name:
                raise ModelError(f"feature space {name}: {reason}")
    return out


def metric_tags(opts) -> dict:
    """{metric asked for: "space/convention"} for every metric computed from features
    (CLIPScore: its image tower's space and convention)."""
    inception = get_space("inception")
    chosen = get_space(opts.feature_space)
    out = {}
    for m in opts.metrics:
        if m in DISTANCE_METRICS:
            space = get_space(DISTANCE_METRICS[m][0])
        elif m in SPACE_METRICS:
            space = chosen
        elif m in ("fid", "sfid", "fid_inf", "fid_ci", "is", "gan-train", "gan-test"):
            space = inception
        else:
            continue
        out[m] = tag(space, convention_of(opts, space))
    if "clip_score" in opts.metrics:
        from ..features.spaces import CLIPSCORE_SPACES
        space = get_space(CLIPSCORE_SPACES[opts.clip_score_convention])
        out["clip_score"] = tag(space, convention_of(opts, space))
    if opts.per_image:
        out["per_image"] = tag(chosen, convention_of(opts, chosen))
    return out


def distance_metrics(opts, spaces: SpaceModels, ref_all: dict, gen_all: dict, res, cancel=None) -> None:
    """The distance of every non-Inception space asked for: the Fréchet distances
    (``fd_dinov2``, ``clip_fid``) in float64 with FID's formula, CMMD from the embeddings in
    float64; null with the reason when it cannot be computed."""
    for metric, (name, spec) in DISTANCE_METRICS.items():
        if metric not in opts.metrics or name == "inception":
            continue
        space, label = get_space(name), spec.label
        if name in spaces.missing:
            res.warnings.append(f"{label} not computed: {spaces.missing[name]}")
            continue
        frechet = spec.distance == FRECHET
        lacking = [role for role, side in (("reference", ref_all), ("generated", gen_all))
                   if name not in side or (not frechet and side[name].features is None)]
        if lacking:
            what = (f", which carries Inception statistics only ({label} needs images)" if frechet
                    else f" without {label} embeddings ({label} needs images, or a stats file written "
                    f"with `stats --{metric}`)")
            res.warnings.append(f"{label} not computed: the {' and '.join(lacking)} side is a stats file{what}")
            continue
        ref, gen = ref_all[name], gen_all[name]
        extras = {"space": tag(space, convention_of(opts, space))}
        if frechet:
            value = fid_metric.compute(ref.stats, gen.stats)
            res.metrics[metric] = value.fid
            res.warnings.extend(f"{label}: {w}" for w in value.warnings())
            n_ref, n_gen = ref.stats.n, gen.stats.n
        else:
            try:
                value = cmmd_metric.compute(ref.features, gen.features, cancel=cancel)
            except ValueError as exc:
                res.warnings.append(f"{label} not computed: {exc}")
                continue
            res.metrics[metric] = value.cmmd
            n_ref, n_gen = value.n_x, value.n_y
            extras.update(sigma=cmmd_metric.SIGMA, scale=cmmd_metric.SCALE, dtype="float64",
                          estimator="biased (all pairs, diagonal included), L2-normalised embeddings")
            for role, side in (("reference", ref), ("generated", gen)):
                if getattr(side, "embeddings_file", None):
                    extras[f"{role}_embeddings"] = side.embeddings_file
        res.extras[metric] = {"n_reference": n_ref, "n_generated": n_gen, **extras}
        small = [f"{role}: {n}" for role, n in (("reference", n_ref), ("generated", n_gen))
                 if n is not None and n < spec.min_images]
        if small:
            res.warnings.append(f"{label} is biased upward with fewer than {spec.min_images} images "
                                f"({', '.join(small)})")


def stored_embeddings(opts, spaces: SpaceModels, path) -> dict:
    """{space: Embeddings} a stats file holds for the embedding metrics asked for (CMMD),
    validated against this run's model and convention (refused in one line otherwise)."""
    from ..features import embeddings_file
    out = {}
    for metric, (name, spec) in DISTANCE_METRICS.items():
        if metric not in opts.metrics or spec.distance == FRECHET or name not in spaces.models:
            continue
        space = get_space(name)
        emb = embeddings_file.load(path, metric, space=space, convention=convention_of(opts, space).name,
                                   model_sha256=spaces.models[name].sha256)
        if emb is not None:
            out[name] = emb
    return out
