"""What every network's build shares: the restricted torch file reader (torch_reader), the
ONNX wire-format reader/patcher (onnx_wire), the verified downloader (download), hashing,
atomic writes and provenance files (files), and the float16 variant of a built model (fp16).

Nothing here knows a particular network; the networks' subpackages import from here, never
the other way round.
"""
