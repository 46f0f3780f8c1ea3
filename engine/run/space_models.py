"""The feature spaces one run feeds: their models, conventions and what results record of them,
and the Fréchet distance of each space besides Inception's FID (``fd_dinov2``).

Which spaces a run needs follows from its options (``Options.spaces_needed``): FID and its
family, IS and GAN-train/test need Inception; ``fd_dinov2`` needs DINOv2; KID, precision/recall,
density/coverage and the per-image scores need the space of ``feature_space``. A space other than
Inception whose model is missing (or that the Ray executor cannot run) leaves its FD null with
the reason; asking for it as ``feature_space`` is then a fatal error.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..errors import ModelError
from ..features.pipeline import SpaceRequest
from ..features.presets import get_preset
from ..features.spaces import FD_METRICS, SPACE_METRICS, get_space, tag
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
        path = getattr(opts, f"{name}_model_path", None)
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
            model = InferenceModel(path, opts.device, precision=opts.precision, build_hint=space.build)
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
    """{metric asked for: "space/convention"} for every metric computed from features."""
    inception = get_space("inception")
    chosen = get_space(opts.feature_space)
    out = {}
    for m in opts.metrics:
        if m in FD_METRICS:
            space = get_space(FD_METRICS[m])
        elif m in SPACE_METRICS:
            space = chosen
        elif m in ("fid", "sfid", "fid_inf", "fid_ci", "is", "gan-train", "gan-test"):
            space = inception
        else:
            continue
        out[m] = tag(space, convention_of(opts, space))
    if opts.per_image:
        out["per_image"] = tag(chosen, convention_of(opts, chosen))
    return out


def fd_metrics(opts, spaces: SpaceModels, ref_all: dict, gen_all: dict, res) -> None:
    """The Fréchet distance of every non-Inception space asked for (``fd_dinov2``), in float64
    with FID's formula; null with the reason when it cannot be computed."""
    for metric, name in FD_METRICS.items():
        if metric not in opts.metrics or name == "inception":
            continue
        space = get_space(name)
        label = space.fd_label
        if name in spaces.missing:
            res.warnings.append(f"{label} not computed: {spaces.missing[name]}")
            continue
        stats_sides = [role for role, side in (("reference", ref_all), ("generated", gen_all))
                       if name not in side]
        if stats_sides:
            res.warnings.append(f"{label} not computed: the {' and '.join(stats_sides)} side is a stats "
                                f"file, which carries Inception statistics only ({label} needs images)")
            continue
        ref, gen = ref_all[name], gen_all[name]
        value = fid_metric.compute(ref.stats, gen.stats)
        res.metrics[metric] = value.fid
        res.warnings.extend(f"{label}: {w}" for w in value.warnings())
        res.extras[metric] = {"n_reference": ref.stats.n, "n_generated": gen.stats.n,
                              "space": tag(space, convention_of(opts, space))}
        small = [f"{role}: {n}" for role, n in (("reference", ref.stats.n), ("generated", gen.stats.n))
                 if n is not None and n < space.dim]
        if small:
            res.warnings.append(f"{label} is biased upward with fewer images than its feature "
                                f"dimension {space.dim} ({', '.join(small)})")
