"""CLIP's byte-pair tokenizer in pure Python, in the two flavours CLIPScore's tools use.

The vocabulary is OpenAI's ``bpe_simple_vocab_16e6.txt.gz`` (vocab.py obtains it; its SHA-256
is checked here). Both flavours share the vocabulary and the BPE (clip/simple_tokenizer.py:
``bytes_to_unicode``, merges = lines 1 .. 48894 of the file, vocabulary = the 256 byte
characters, the same with ``</w>``, one entry per merge, then ``<|startoftext|>`` 49406 and
``<|endoftext|>`` 49407; the pair of lowest rank merged first, ``</w>`` on a word's last
character). They differ in the text clean-up and the pre-token pattern:

* ``encode_openai`` (OpenAI's ``SimpleTokenizer.encode``, what ``clip.tokenize`` runs):
  ``ftfy.fix_text``, ``html.unescape`` twice, strip; every run of whitespace (``regex`` ``\\s+``)
  to one space, strip; ``str.lower()``; pre-tokens by OpenAI's pattern (IGNORECASE; the two
  special tokens are alternatives of it).
* ``encode_hf_fast`` (Hugging Face's ``CLIPTokenizerFast`` as transformers 4.x builds it from
  the same vocabulary, convert_slow_tokenizer.CLIPConverter; what ``CLIPProcessor`` loads):
  the literal special tokens in the raw text taken out first (added tokens, matched exactly);
  normaliser NFC, every ``\\s+`` to one space, lower-case character by character (no
  final-sigma rule: tokenizers' ``Lowercase``); no ftfy, no HTML unescaping, no strip; pre-tokens
  by the same pattern without the special-token alternatives (then ByteLevel, whose GPT-2 split
  leaves these pre-tokens whole).
"""
from __future__ import annotations

import gzip
import hashlib
import html
import unicodedata
from functools import lru_cache
from pathlib import Path

from ..errors import HashMismatchError, ModelBuildError
from .vocab import VOCAB_SHA256

SOT, EOT = "<|startoftext|>", "<|endoftext|>"
N_MERGES = 49152 - 256 - 2  # simple_tokenizer: merges[1:49152-256-2+1]
_LETTERS = r"'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"


@lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """simple_tokenizer.bytes_to_unicode: each byte to a printable character."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def _regex():
    try:
        import regex
    except ImportError:
        raise ModelBuildError("The CLIP tokenizer needs the 'regex' package: "
                              "pip install -r requirements.txt") from None
    return regex


class ClipBPE:
    """The vocabulary and merges of one vocabulary file, and both flavours' encode."""

    def __init__(self, vocab_path: Path):
        data = Path(vocab_path).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != VOCAB_SHA256:
            raise HashMismatchError(
                f"{vocab_path} has SHA-256 {digest}, expected {VOCAB_SHA256}: not the CLIP "
                "vocabulary. Delete it and run `python main.py model vocab`")
        lines = gzip.decompress(data).decode("utf-8").split("\n")[1:N_MERGES + 1]
        merges = [tuple(line.split()) for line in lines]
        vocab = list(bytes_to_unicode().values())
        vocab = vocab + [v + "</w>" for v in vocab] + ["".join(m) for m in merges] + [SOT, EOT]
        self.encoder = {tok: i for i, tok in enumerate(vocab)}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.sot, self.eot = self.encoder[SOT], self.encoder[EOT]
        self.byte_encoder = bytes_to_unicode()
        self.cache = {SOT: [SOT], EOT: [EOT]}
        re = _regex()
        self.pat_openai = re.compile(r"<\|startoftext\|>|<\|endoftext\|>|" + _LETTERS, re.IGNORECASE)
        self.pat_hf = re.compile(_LETTERS)
        self.ws = re.compile(r"\s+")

    def bpe(self, token: str) -> list[str]:
        """simple_tokenizer.SimpleTokenizer.bpe, as a list of symbols."""
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            bigram = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if bigram not in self.ranks:
                break
            first, second = bigram
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = tuple(merged)
        self.cache[token] = list(word)
        return self.cache[token]

    def _ids(self, pre_tokens) -> list[int]:
        out = []
        for tok in pre_tokens:
            if tok not in (SOT, EOT):
                tok = "".join(self.byte_encoder[b] for b in tok.encode("utf-8"))
            out.extend(self.encoder[s] for s in self.bpe(tok))
        return out

    def encode_openai(self, text: str) -> list[int]:
        """SimpleTokenizer.encode(text): ids without the start and end tokens."""
        import ftfy
        text = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
        text = self.ws.sub(" ", text).strip().lower()
        return self._ids(self.pat_openai.findall(text))

    def encode_hf_fast(self, text: str) -> list[int]:
        """CLIPTokenizerFast(text, add_special_tokens=False)'s ids."""
        out: list[int] = []
        for i, part in enumerate(_split_special(text)):
            if i % 2:
                out.append(self.encoder[part])
                continue
            part = unicodedata.normalize("NFC", part)
            part = "".join(c.lower() for c in self.ws.sub(" ", part))
            out.extend(self._ids(self.pat_hf.findall(part)))
        return out


def _split_special(text: str) -> list[str]:
    """[text, special, text, special, ..., text]: the literal special tokens split out."""
    re = _regex()
    return re.split(r"(<\|startoftext\|>|<\|endoftext\|>)", text)


@lru_cache(maxsize=4)
def load_bpe(vocab_path: str) -> ClipBPE:
    return ClipBPE(Path(vocab_path))
