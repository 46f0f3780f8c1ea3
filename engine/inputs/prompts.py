"""The prompts a generated source was made from, for CLIPScore.

Four forms, looked for in this order; the first one present is used and the result says which:

1. ``prompts.csv`` at the top of the folder or archive: a header with columns ``file`` and
   ``prompt`` (others ignored), one image per row, ``file`` relative to the source's top
   (POSIX separators) as the source lists it;
2. ``prompts.jsonl`` at the same place: one JSON object per line with keys ``file`` and
   ``prompt``;
3. a ``.txt`` beside each image with the same stem (``a/b.png`` -> ``a/b.txt``), the layout of
   common diffusion training sets; surrounding white space is dropped;
4. a ``prompts`` string array next to ``arr_0`` in an ``.npz`` batch, ``prompts[i]`` for
   ``arr_0[i]``.

Both ``prompts.csv`` and ``prompts.jsonl`` present is ambiguous and refused (no prompts, with the
reason); a table present wins over ``.txt`` files (they are then named in a warning). Every
problem with one file or line is a per-file record ``(file, reason)``, never an exception: an
image without a prompt, a prompt without an image, an empty prompt (scored against the empty
text, as the tools score it), text that is not UTF-8, a malformed line, one file given two
different prompts (neither is used). CSV / JSONL prompts are taken verbatim.
"""
from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from dataclasses import dataclass, field

import numpy as np

CSV_NAME = "prompts.csv"
JSONL_NAME = "prompts.jsonl"
TXT_FORM = ".txt beside each image"
NPZ_FORM = "'prompts' array in the .npz"
NPZ_MEMBER = "prompts"
MAX_PROMPT_FILE = 64 * 1024 * 1024     # a prompts table larger than this is refused unread
MAX_SIDECAR = 1024 * 1024
NOT_FOUND = ("no prompts found beside the images (prompts.csv, prompts.jsonl, a .txt per image, "
             "or a 'prompts' array in the .npz)")
EMPTY_NOTE = "empty prompt: scored against the empty text, as the reference tools do"


@dataclass
class Prompts:
    """What a source's prompts are: ``prompts`` (image name -> text), the form they came from
    (None: none), per-file ``records`` [(file, reason)], and ``unavailable`` (why there are
    none at all, else None)."""
    prompts: dict = field(default_factory=dict)
    form: str | None = None
    records: list = field(default_factory=list)
    unavailable: str | None = None
    consumed: set = field(default_factory=set)    # prompt files (not images, not to be warned about)
    notes: list = field(default_factory=list)     # source-level remarks for the run's warnings


def _bad_utf8(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM); undecodable bytes kept as surrogates, found per line."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", "surrogateescape")


class _Collector:
    """Prompts by file, with the duplicate rule: one file, two different prompts -> neither."""

    def __init__(self, images: list, where: str):
        self.images = set(images)
        self.where = where
        self.found: dict = {}        # name -> (prompt, line)
        self.conflicts: dict = {}    # name -> [lines]
        self.records: list = []

    def add(self, name, prompt, line) -> None:
        if not isinstance(name, str) or not name.strip():
            self.records.append((f"{self.where} line {line}", "no file name on this line: skipped"))
            return
        if not isinstance(prompt, str):
            self.records.append((name, f"{self.where} line {line}: the prompt is not text: skipped"))
            return
        if _bad_utf8(name) or _bad_utf8(prompt):
            self.records.append((name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
                                 f"{self.where} line {line}: not UTF-8 text: skipped"))
            return
        name = name.strip().replace("\\", "/")
        if name.startswith("./"):
            name = name[2:]
        if name in self.conflicts:
            self.conflicts[name].append(line)
        elif name in self.found and self.found[name][0] != prompt:
            self.conflicts[name] = [self.found.pop(name)[1], line]
        elif name not in self.found:
            self.found[name] = (prompt, line)

    def result(self, form: str) -> Prompts:
        out = Prompts(form=form, records=list(self.records))
        for name, lines in self.conflicts.items():
            out.records.append((name, f"{self.where} gives this file different prompts (lines "
                                      f"{', '.join(map(str, lines))}): not scored"))
        for name, (prompt, line) in self.found.items():
            if name not in self.images:
                out.records.append((name, f"prompt without an image ({self.where} line {line})"))
                continue
            out.prompts[name] = prompt
            if not prompt.strip():
                out.records.append((name, EMPTY_NOTE))
        return out


def _csv_prompts(text: str, images: list) -> Prompts:
    col = _Collector(images, CSV_NAME)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return Prompts(unavailable=f"{CSV_NAME} is empty or unreadable: it needs a header "
                                   "with columns 'file' and 'prompt'")
    names = [h.strip().lower() for h in header]
    if "file" not in names or "prompt" not in names:
        return Prompts(unavailable=f"{CSV_NAME} has no 'file' and 'prompt' columns in its header "
                                   f"(found: {', '.join(h for h in header if h) or 'none'})")
    fi, pi = names.index("file"), names.index("prompt")
    errors = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:          # a NUL byte, an unterminated quote...: that line only
            col.records.append((f"{CSV_NAME} line {reader.line_num}", f"malformed CSV line ({exc}): skipped"))
            errors += 1
            if errors > 10000:
                break
            continue
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) <= max(fi, pi):
            col.records.append((f"{CSV_NAME} line {reader.line_num}",
                                f"malformed CSV line ({len(row)} field(s), expected at least "
                                f"{max(fi, pi) + 1}): skipped"))
            continue
        col.add(row[fi], row[pi], reader.line_num)
    return col.result(CSV_NAME)


def _jsonl_prompts(text: str, images: list) -> Prompts:
    col = _Collector(images, JSONL_NAME)
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if _bad_utf8(line):
            col.records.append((f"{JSONL_NAME} line {n}", "not UTF-8 text: skipped"))
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        if not isinstance(obj, dict) or "file" not in obj or "prompt" not in obj:
            col.records.append((f"{JSONL_NAME} line {n}",
                                "malformed line (expected a JSON object with 'file' and 'prompt'): skipped"))
            continue
        col.add(obj["file"], obj["prompt"], n)
    return col.result(JSONL_NAME)


class _Reader:
    """Reads small text files of a folder or a zip archive by their listed names."""

    def __init__(self, src):
        self.src = src
        self.zf = zipfile.ZipFile(src.path) if src.kind == "zip" else None
        self.names = set(self._listing())

    def _listing(self):
        if self.zf is not None:
            return [i.filename for i in self.zf.infolist() if not i.is_dir()]
        return list(self.src.ignored)

    def size(self, name) -> int:
        if self.zf is not None:
            return self.zf.getinfo(name).file_size
        return os.path.getsize(self.src.path / name)

    def read(self, name, limit) -> bytes:
        if self.size(name) > limit:
            raise OSError(f"larger than {limit // (1024 * 1024) or 1} MB")
        if self.zf is not None:
            return self.zf.read(name)
        with open(self.src.path / name, "rb") as fh:
            return fh.read()

    def close(self):
        if self.zf is not None:
            self.zf.close()


def _table(reader, name, parse, images) -> Prompts:
    try:
        text = _decode(reader.read(name, MAX_PROMPT_FILE))
    except (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError) as exc:
        return Prompts(unavailable=f"{name} cannot be read: {exc}", consumed={name})
    out = parse(text, images)
    out.consumed.add(name)
    return out


def _sidecars(reader, images: list) -> Prompts | None:
    txt = {}
    for name in reader.names:
        stem, ext = os.path.splitext(name)
        if ext.lower() == ".txt":
            txt[stem] = name
    if not txt:
        return None
    out = Prompts(form=TXT_FORM, consumed=set(txt.values()))
    used = set()
    for image in images:
        side = txt.get(os.path.splitext(image)[0])
        if side is None:
            continue
        used.add(side)
        try:
            data = reader.read(side, MAX_SIDECAR)
        except (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError) as exc:
            out.records.append((side, f"prompt file cannot be read ({exc}): {image} not scored"))
            continue
        text = _decode(data)
        if _bad_utf8(text):
            out.records.append((side, f"prompt file is not UTF-8 text: {image} not scored"))
            continue
        out.prompts[image] = text.strip()
        if not out.prompts[image]:
            out.records.append((image, EMPTY_NOTE))
    out.records += [(side, "prompt without an image (no image with this stem)")
                    for side in sorted(set(txt.values()) - used)]
    return out


def _npz_prompts(src) -> Prompts:
    from .arrays import npz_members
    if NPZ_MEMBER not in npz_members(src.path):
        return Prompts(unavailable=NOT_FOUND)
    try:
        with np.load(src.path, allow_pickle=False) as data:
            arr = np.asarray(data[NPZ_MEMBER])
    except ValueError:
        return Prompts(unavailable=f"the '{NPZ_MEMBER}' array of {src.label} holds Python objects "
                                   "(pickled), which are not read: save it as a string array "
                                   "(np.array(prompts, dtype=str))")
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        return Prompts(unavailable=f"the '{NPZ_MEMBER}' array of {src.label} cannot be read: {exc}")
    if arr.dtype.kind not in "US" or arr.ndim != 1:
        return Prompts(unavailable=f"the '{NPZ_MEMBER}' array of {src.label} is not a 1-d array of "
                                   f"strings (dtype {arr.dtype}, shape {arr.shape})")
    out = Prompts(form=NPZ_FORM)
    images = list(src.files)
    for i, value in enumerate(arr.tolist()):
        name = f"{NPZ_MEMBER}[{i}]"
        if i >= src.array.n:
            out.records.append((name, f"prompt without an image ({src.array.member} holds {src.array.n})"))
            continue
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                out.records.append((name, f"not UTF-8 text: {src.array.name(i)} not scored"))
                continue
        if i < len(images):
            out.prompts[images[i]] = value
            if not value.strip():
                out.records.append((images[i], EMPTY_NOTE))
    return out


def read_prompts(src) -> Prompts:
    """The prompts of a generated source (engine.inputs.sources.Source), by the rules above.
    Images without a prompt get a record here too; nothing raises for a source's content."""
    if src.kind == "stats":
        return Prompts(unavailable="a stats file has no images to score against prompts")
    if src.kind == "array":
        out = _npz_prompts(src) if str(src.path).lower().endswith(".npz") else Prompts(unavailable=NOT_FOUND)
    else:
        try:
            reader = _Reader(src)
        except (OSError, zipfile.BadZipFile) as exc:
            return Prompts(unavailable=f"prompts cannot be read from {src.label}: {exc}")
        try:
            out = _from_files(reader, list(src.files))
        finally:
            reader.close()
    if out.unavailable is None:
        out.records += [(name, f"no prompt ({out.form}): not scored") for name in src.files
                        if name not in out.prompts]
    return out


def _from_files(reader, images: list) -> Prompts:
    tables = [n for n in (CSV_NAME, JSONL_NAME) if n in reader.names]
    if len(tables) == 2:
        return Prompts(unavailable=f"both {CSV_NAME} and {JSONL_NAME} are present: which one holds "
                                   "the prompts is ambiguous; keep one", consumed=set(tables))
    if tables:
        name = tables[0]
        out = _table(reader, name, _csv_prompts if name == CSV_NAME else _jsonl_prompts, images)
        side = _sidecars(reader, [])
        if side is not None and side.consumed:
            out.notes.append(f"{len(side.consumed)} .txt file(s) beside the images not used: "
                             f"{name} holds the prompts")
            out.consumed |= side.consumed
        return out
    side = _sidecars(reader, images)
    return side if side is not None else Prompts(unavailable=NOT_FOUND)


def drop_consumed(src, prompts: Prompts) -> None:
    """Prompt files are not 'non-image files ignored': take them out of that warning."""
    if prompts.consumed:
        src.ignored = [n for n in src.ignored if n not in prompts.consumed]
