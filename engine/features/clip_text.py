"""Prompts -> CLIP token ids, as each CLIPScore convention's tool makes them.

``tokenize_prompts(prompts, convention)`` -> TokenBatch: ``ids`` (N, 77) int64, the input of
the text encoder (models/clip/text_graph.py: features at argmax(ids)); ``truncated`` (N,),
whether a prompt did not fit; ``warnings``, one line per cut prompt.

* ``torchmetrics`` (torchmetrics 1.9 ``CLIPScore(model_name_or_path=
  "openai/clip-vit-large-patch14")``): its ``CLIPProcessor`` loads Hugging Face's fast CLIP
  tokenizer (``AutoTokenizer``: ``CLIPTokenizerFast``): its clean-up (models/clip/tokenizer.py
  ``encode_hf_fast``), start token 49406, end token 49407, ``padding=True`` with the pad token
  ``<|endoftext|>`` (49407; the batch is padded to its longest prompt: to 77 here, which the
  causal text tower cannot tell apart), no truncation by the tokenizer; then torchmetrics cuts
  ``input_ids`` to ``max_position_embeddings`` (77), warning "Encountered caption longer than
  max_position_embeddings=77. Will truncate captions to this length": the first 77 ids stay,
  the end token is lost, and the text feature is taken where ``argmax(ids)`` points (the
  first occurrence of the largest remaining id: the hub config's ``eos_token_id`` is 2, so
  transformers' CLIPTextTransformer pools by argmax, as OpenAI's encode_text).
* ``hessel`` (jmhessel/clipscore ``clipscore.py``): the prompt prefixed with "A photo depicts "
  (``CLIPCapDataset``: its prefix plus a space), then ``clip.tokenize(..., truncate=True)``:
  OpenAI's tokenizer (``encode_openai``), padding 0, and a sequence longer than 77 keeps its
  first 77 ids with the last replaced by the end token.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ModelError

CONVENTIONS = ("torchmetrics", "hessel")
CONTEXT_LENGTH = 77
HESSEL_PREFIX = "A photo depicts "
_PAD = {"torchmetrics": 49407, "hessel": 0}  # HF's pad token <|endoftext|>; clip.tokenize's zeros


@dataclass
class TokenBatch:
    ids: np.ndarray                      # (N, 77) int64
    truncated: np.ndarray                # (N,) bool
    warnings: list[str] = field(default_factory=list)


def _bpe(vocab_path=None):
    from models.clip.tokenizer import load_bpe
    from models.clip.vocab import find_vocab
    from models.errors import ModelBuildError
    path = vocab_path or find_vocab()
    if path is None:
        raise ModelError("CLIP tokenizer vocabulary not found (python main.py model vocab, or "
                         "model add clip-vitl14 / clip-vitb32)")
    try:
        return load_bpe(str(path))
    except ModelBuildError as exc:
        raise ModelError(str(exc)) from None


def tokenize_prompts(prompts: list[str], convention: str, vocab_path=None) -> TokenBatch:
    """Token ids of ``prompts`` for ``convention`` ('torchmetrics' | 'hessel'); the vocabulary
    is models.clip.vocab.find_vocab()'s unless vocab_path is given (ModelError when missing)."""
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown CLIPScore convention {convention!r}; expected one of "
                         f"{', '.join(CONVENTIONS)}")
    bpe = _bpe(vocab_path)
    n = len(prompts)
    ids = np.full((n, CONTEXT_LENGTH), _PAD[convention], np.int64)
    truncated = np.zeros(n, bool)
    warnings = []
    for i, prompt in enumerate(prompts):
        if convention == "hessel":
            seq = [bpe.sot, *bpe.encode_openai(HESSEL_PREFIX + prompt), bpe.eot]
        else:
            seq = [bpe.sot, *bpe.encode_hf_fast(prompt), bpe.eot]
        if len(seq) > CONTEXT_LENGTH:
            truncated[i] = True
            warnings.append(_cut_warning(i, len(seq), convention))
            seq = seq[:CONTEXT_LENGTH]
            if convention == "hessel":
                seq[-1] = bpe.eot
        ids[i, :len(seq)] = seq
    return TokenBatch(ids, truncated, warnings)


def _cut_warning(i: int, length: int, convention: str) -> str:
    if convention == "hessel":
        return (f"prompt {i}: {length} tokens with the prefix, cut to {CONTEXT_LENGTH} as "
                "clip.tokenize(truncate=True) does (its last token replaced by the end token)")
    return (f"prompt {i}: {length} tokens, cut to {CONTEXT_LENGTH} as torchmetrics does "
            "(the end token is cut off; the feature is taken at the largest remaining id)")
