"""Just enough of the protobuf wire format to read an ONNX model's initializers and
metadata, and to append nodes/outputs to it, without the ``onnx`` package.

The packaged app ships onnxruntime but not ``onnx``, yet it must add the classifier head
to the model. Protobuf merges a message that appears twice: repeated fields are
concatenated, so appending ``ModelProto.graph = {node, initializer, output}`` and
``ModelProto.metadata_props`` to a serialized model yields the same model plus those
entries, and the original bytes stay a byte-identical prefix (the "body").

Field numbers (onnx.proto3): ModelProto graph=7 metadata_props=14; GraphProto node=1
initializer=5 output=12; NodeProto input=1 output=2 name=3 op_type=4; TensorProto dims=1
data_type=2 name=8 raw_data=9; ValueInfoProto name=1 type=2; TypeProto tensor_type=1;
TypeProto.Tensor elem_type=1 shape=2; TensorShapeProto dim=1; Dimension dim_value=1
dim_param=2; StringStringEntryProto key=1 value=2.
"""
from __future__ import annotations

import numpy as np

from ..errors import WeightsFormatError

FLOAT = 1  # TensorProto.DataType.FLOAT
_NP_TYPES = {1: np.dtype("<f4"), 11: np.dtype("<f8"), 7: np.dtype("<i8")}


# ---------------------------------------------------------------- reading

def _varint(buf, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise WeightsFormatError("the model file is truncated (protobuf varint)")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def fields(buf, start: int = 0, end: int | None = None):
    """(field number, wire type, value) for each field; length-delimited values are
    memoryview slices, varints ints."""
    end = len(buf) if end is None else end
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            n, pos = _varint(buf, pos)
            if pos + n > end:
                raise WeightsFormatError("the model file is truncated (protobuf field)")
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise WeightsFormatError(f"the model file is not an ONNX model (wire type {wire})")
        yield num, wire, value


def _tensor(buf) -> tuple[str, np.ndarray | None]:
    name, dims, dtype, raw = "", [], None, None
    for num, wire, value in fields(buf):
        if num == 1:
            if wire == 0:
                dims.append(value)
            else:  # packed
                pos = 0
                while pos < len(value):
                    d, pos = _varint(value, pos)
                    dims.append(d)
        elif num == 2:
            dtype = value
        elif num == 8:
            name = bytes(value).decode()
        elif num == 9:
            raw = value
    if raw is None or dtype not in _NP_TYPES:
        return name, None  # not stored as raw bytes: not one of ours
    arr = np.frombuffer(raw, dtype=_NP_TYPES[dtype])
    return name, arr.reshape(dims) if dims else arr.reshape(())


def read_model(data: bytes) -> dict:
    """{'initializers': {name: array}, 'outputs': [names], 'nodes': [(op, name)],
    'metadata': {key: value}} of a serialized ONNX model (all graph fields merged)."""
    buf = memoryview(data)
    inits, outputs, nodes, meta = {}, [], [], {}
    for num, _, value in fields(buf):
        if num == 7:
            for gnum, _, gval in fields(value):
                if gnum == 5:
                    name, arr = _tensor(gval)
                    if arr is not None:
                        inits[name] = arr
                elif gnum == 12:
                    outputs.append(next((bytes(v).decode() for n, _, v in fields(gval)
                                         if n == 1), ""))
                elif gnum == 1:
                    info = {n: bytes(v).decode() for n, _, v in fields(gval) if n in (3, 4)}
                    nodes.append((info.get(4, ""), info.get(3, "")))
        elif num == 14:
            entry = {n: bytes(v).decode() for n, _, v in fields(value)}
            meta[entry.get(1, "")] = entry.get(2, "")
    return {"initializers": inits, "outputs": outputs, "nodes": nodes, "metadata": meta}


# ---------------------------------------------------------------- writing

def _enc_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num: int, payload: bytes | str | int) -> bytes:
    if isinstance(payload, int):
        return _enc_varint(num << 3) + _enc_varint(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    return _enc_varint(num << 3 | 2) + _enc_varint(len(payload)) + payload


def tensor_proto(name: str, arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr, dtype="<f4")
    return (b"".join(_field(1, int(d)) for d in arr.shape) + _field(2, FLOAT)
            + _field(8, name) + _field(9, arr.tobytes()))


def node_proto(op_type: str, inputs: list[str], outputs: list[str], name: str) -> bytes:
    return (b"".join(_field(1, i) for i in inputs) + b"".join(_field(2, o) for o in outputs)
            + _field(3, name) + _field(4, op_type))


def float_output(name: str, dims: list) -> bytes:
    shape = b"".join(_field(1, _field(2, d) if isinstance(d, str) else _field(1, int(d)))
                     for d in dims)
    tensor_type = _field(1, FLOAT) + _field(2, shape)
    return _field(1, name) + _field(2, _field(1, tensor_type))


def graph_patch(nodes: list[bytes], initializers: list[bytes], outputs: list[bytes]) -> bytes:
    """A ModelProto fragment: one more ``graph`` whose entries protobuf appends."""
    graph = (b"".join(_field(1, n) for n in nodes) + b"".join(_field(5, t) for t in initializers)
             + b"".join(_field(12, o) for o in outputs))
    return _field(7, graph)


def metadata_patch(props: dict[str, str]) -> bytes:
    return b"".join(_field(14, _field(1, k) + _field(2, v)) for k, v in props.items())
