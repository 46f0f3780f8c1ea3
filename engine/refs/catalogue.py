"""Published reference statistics, as data: what each file is, where it lies, what it equals.

Every entry was named from the publishing tool's own code or README (read at the commits named
below), never guessed:

* clean-fid (GaParmar/clean-fid e88c4d6): ``cleanfid/features.py`` ``get_reference_statistics``
  downloads ``{base_url}/{name}_{mode}{model_modifier}_{split}_{res}.npz`` (lower-cased; ``_kid``
  before ``.npz`` for KID's features) from ``https://www.cs.cmu.edu/~clean-fid/stats/`` (its
  ``base_url`` ends in ``/`` and the code adds another: the server answers both; the catalogue
  keeps one). The datasets, splits, resolutions, image counts and modes are the README's table
  "Supported Precomputed Datasets"; KID features are "only precomputed for smaller datasets
  AFHQ, BreCaHAD, and MetFaces". Modes: ``clean`` = our preset ``clean``; ``legacy_tensorflow``
  = ``tensorflow`` (TTUR); ``legacy_pytorch`` = ``pytorch-fid`` (the README: "equivalent to
  ... pytorch-fid", ~2e-06). The README lists no precomputed CLIP (``clip_vit_b_32``) files,
  so none is catalogued.
* ADM (openai/guided-diffusion ``evaluations/README.md``): the reference batches
  ``VIRTUAL_*.npz``: 10,000 images (``arr_0``) plus statistics of the whole dataset (``mu``,
  ``sigma``, ``mu_s``, ``sigma_s``); TF Inception graph = our ADM suite (preset tensorflow).
* EDM (NVlabs/edm ``README.md``, ``fid.py``): ``fid-refs/{cifar10-32x32,ffhq-64x64,
  afhqv2-64x64,imagenet-64x64,imagenet-64x64-baseline}.npz`` with ``mu``/``sigma``; ``fid.py``
  takes its features from StyleGAN3's ``inception-2015-12-05.pkl`` (a PyTorch translation of
  the TF graph, resizing inside like it) = our ``tensorflow`` preset.
* EDM2 (NVlabs/edm2 ``README.md``, ``calculate_metrics.py``): ``dataset-refs/img512.pkl``, a
  pickle of ``dict(num_images=N, fid=dict(mu, sigma), fd_dinov2=dict(mu, sigma))``
  (``calculate_stats_for_iterable``): FID with the same StyleGAN3 Inception (tensorflow) and
  FD_DINOv2 in EDM2's convention. (The README names only img512.pkl; no img64 reference file
  is named in the tool, so none is catalogued.)

No tool publishes SHA-256 digests of these files: ``sha256`` is None throughout, and the first
download's digest is recorded and checked at every later use (``store.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from ..errors import InputError

# what a file holds (validate.py checks each kind's members)
MOMENTS = "moments"          # npz: mu, sigma
CLEANFID_KID = "cleanfid-kid"   # npz: feats (n, 2048)
ADM_BATCH = "adm-batch"      # npz: arr_0 (images) + mu, sigma, mu_s, sigma_s
EDM2_PICKLE = "edm2-pickle"  # pickle: {num_images, fid: {mu, sigma}, fd_dinov2: {mu, sigma}}


@dataclass(frozen=True)
class Convention:
    preset: str                 # our preset whose features the file's Inception statistics equal
    suite: str | None = None    # the suite it belongs to (ADM batches: adm)
    space: str = "inception"
    equals: str = ""            # in words: the tool and mode it was made with


@dataclass(frozen=True)
class RefEntry:
    name: str
    tool: str
    kind: str
    url: str
    dataset: str
    resolution: int
    split: str
    convention: Convention
    n_images: int | None = None       # images the statistics were computed from, where known
    sha256: str | None = None         # where the tool publishes one (none do)
    supports: tuple = ()              # metrics a `compute` run takes from it
    held: tuple = ()                  # (what, why not usable here) for what it holds beyond that
    note: str = ""

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def host_path(self) -> tuple[str, str]:
        u = urlparse(self.url)
        return u.hostname or "", u.path

    def to_dict(self) -> dict:
        host, path = self.host_path
        return {"name": self.name, "tool": self.tool, "kind": self.kind, "url": self.url, "host": host,
                "path": path, "dataset": self.dataset, "resolution": self.resolution, "split": self.split,
                "n_images": self.n_images, "sha256": self.sha256, "preset": self.convention.preset,
                "suite": self.convention.suite, "space": self.convention.space,
                "equals": self.convention.equals, "supports": list(self.supports),
                "not_usable": {what: why for what, why in self.held}, "note": self.note}


CLEANFID_BASE = "https://www.cs.cmu.edu/~clean-fid/stats/"
CLEANFID_MODES = {"clean": "clean", "legacy_tensorflow": "tensorflow", "legacy_pytorch": "pytorch-fid"}
ALL_MODES = tuple(CLEANFID_MODES)
# clean-fid README, "Supported Precomputed Datasets": (dataset, resolutions, split, images, modes)
CLEANFID_TABLE = (
    ("cifar10", (32,), "train", 50_000, ALL_MODES),
    ("cifar10", (32,), "test", 10_000, ALL_MODES),
    ("ffhq", (1024, 256), "trainval", 50_000, ALL_MODES),
    ("ffhq", (1024, 256), "trainval70k", 70_000, ALL_MODES),
    ("lsun_church", (256,), "train", 50_000, ALL_MODES),
    ("lsun_church", (256,), "trainfull", 126_227, ("clean",)),
    ("lsun_horse", (256,), "train", 50_000, ALL_MODES),
    ("lsun_horse", (256,), "trainfull", 2_000_340, ("clean",)),
    ("lsun_cat", (256,), "train", 50_000, ALL_MODES),
    ("lsun_cat", (256,), "trainfull", 1_657_264, ALL_MODES),
    ("afhq_cat", (512,), "train", 5153, ALL_MODES),
    ("afhq_dog", (512,), "train", 4739, ALL_MODES),
    ("afhq_wild", (512,), "train", 4738, ALL_MODES),
    ("brecahad", (512,), "train", 1944, ALL_MODES),
    ("metfaces", (1024,), "train", 1336, ALL_MODES),
    ("horse2zebra", (256,), "test", 140, ALL_MODES),
    ("cat2dog", (256,), "test", 500, ALL_MODES),
)
CLEANFID_KID_DATASETS = ("afhq_cat", "afhq_dog", "afhq_wild", "brecahad", "metfaces")
KID_NOT_USABLE = ("kid", "clean-fid's KID features: `compute` takes KID's reference features from "
                  "images only; `refs get` gives the file for clean-fid's compute_kid")


def _cleanfid_entries():
    for dataset, resolutions, split, n, modes in CLEANFID_TABLE:
        for res in resolutions:
            for mode in modes:
                stem = f"{dataset}_{mode}_{split}_{res}".lower()   # model_name inception_v3: no modifier
                conv = Convention(CLEANFID_MODES[mode], equals=f"clean-fid mode \"{mode}\" (Inception-v3)")
                common = dict(tool="clean-fid", dataset=dataset, resolution=res, split=split,
                              convention=conv, n_images=n)
                yield RefEntry(f"clean-fid/{stem}", kind=MOMENTS, url=CLEANFID_BASE + stem + ".npz",
                               supports=("fid",), **common)
                if dataset in CLEANFID_KID_DATASETS:
                    yield RefEntry(f"clean-fid/{stem}_kid", kind=CLEANFID_KID,
                                   url=CLEANFID_BASE + stem + "_kid.npz", held=(KID_NOT_USABLE,), **common)


ADM_BASE = "https://openaipublic.blob.core.windows.net/diffusion/jul-2021/ref_batches/"
# guided-diffusion evaluations/README.md: (dataset, resolution, path under ADM_BASE)
ADM_TABLE = (
    ("lsun_bedroom", 256, "lsun/bedroom/VIRTUAL_lsun_bedroom256.npz"),
    ("lsun_cat", 256, "lsun/cat/VIRTUAL_lsun_cat256.npz"),
    ("lsun_horse", 256, "lsun/horse/VIRTUAL_lsun_horse256.npz"),
    ("imagenet", 64, "imagenet/64/VIRTUAL_imagenet64_labeled.npz"),
    ("imagenet", 128, "imagenet/128/VIRTUAL_imagenet128_labeled.npz"),
    ("imagenet", 256, "imagenet/256/VIRTUAL_imagenet256_labeled.npz"),
    ("imagenet", 512, "imagenet/512/VIRTUAL_imagenet512.npz"),
)
ADM_CONVENTION = Convention("tensorflow", suite="adm", equals="ADM evaluator (guided-diffusion, TF Inception graph)")


def _adm_entries():
    for dataset, res, path in ADM_TABLE:
        stem = path.rsplit("/", 1)[-1][:-len(".npz")]
        yield RefEntry(f"adm/{stem}", tool="guided-diffusion (ADM)", kind=ADM_BATCH, url=ADM_BASE + path,
                       dataset=dataset, resolution=res, split="train", convention=ADM_CONVENTION,
                       supports=("fid", "sfid", "kid", "pr"),
                       note="statistics over the whole dataset; 10,000 of its images (arr_0) for "
                            "precision/recall and the other per-image metrics")


EDM_BASE = "https://nvlabs-fi-cdn.nvidia.com/edm/fid-refs/"
EDM_TABLE = (("cifar10", 32, "cifar10-32x32", ""), ("ffhq", 64, "ffhq-64x64", ""),
             ("afhqv2", 64, "afhqv2-64x64", ""),
             ("imagenet", 64, "imagenet-64x64", "for EDM's own ImageNet-64 model"),
             ("imagenet", 64, "imagenet-64x64-baseline",
              "for the ADM baseline model (derived from guided-diffusion's reference statistics)"))
STYLEGAN3_INCEPTION = "StyleGAN3's inception-2015-12-05.pkl (TF graph in PyTorch)"


def _edm_entries():
    conv = Convention("tensorflow", equals=f"EDM fid.py: {STYLEGAN3_INCEPTION}")
    for dataset, res, stem, note in EDM_TABLE:
        yield RefEntry(f"edm/{stem}", tool="EDM", kind=MOMENTS, url=EDM_BASE + stem + ".npz", dataset=dataset,
                       resolution=res, split="train", convention=conv, supports=("fid",), note=note)


EDM2_BASE = "https://nvlabs-fi-cdn.nvidia.com/edm2/dataset-refs/"
FD_DINOV2_NOT_USABLE = ("fd_dinov2", "EDM2's FD_DINOv2 statistics: `compute` takes DINOv2 reference "
                        "statistics from images only")


def _edm2_entries():
    conv = Convention("tensorflow", equals=f"EDM2 calculate_metrics.py: fid = {STYLEGAN3_INCEPTION}; "
                      "fd_dinov2 = DINOv2 ViT-L/14, EDM2 convention")
    yield RefEntry("edm2/img512", tool="EDM2", kind=EDM2_PICKLE, url=EDM2_BASE + "img512.pkl",
                   dataset="imagenet", resolution=512, split="train", convention=conv, supports=("fid",),
                   held=(FD_DINOV2_NOT_USABLE,),
                   note="a pickle: read with a restricted unpickler that only rebuilds numpy arrays")


CATALOGUE: dict[str, RefEntry] = {e.name: e for gen in (_cleanfid_entries, _adm_entries, _edm_entries,
                                                        _edm2_entries) for e in gen()}


def get_entry(name: str) -> RefEntry:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise InputError(f"no catalogue entry {name!r} (see `refs list`)") from None
