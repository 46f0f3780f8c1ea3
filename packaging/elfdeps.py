"""Read DT_NEEDED and DT_SONAME from ELF files (64/32-bit, either endianness), no tools needed.

Used by pyinstaller.spec to drop Qt libraries that only pruned plugins needed, and by
packaging/find_depends.py to list what a bundle needs from the system.
"""
from __future__ import annotations

import struct
from pathlib import Path

DT_NEEDED, DT_SONAME, DT_STRTAB = 1, 14, 5
PT_LOAD, PT_DYNAMIC = 1, 2


def is_elf(path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def dynamic_info(path) -> tuple[str | None, list[str]]:
    """(soname, [needed sonames]) of an ELF shared object or executable; (None, []) if none."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF":
        raise ValueError(f"{path} is not an ELF file")
    is64, end = data[4] == 2, "<" if data[5] == 1 else ">"
    if is64:
        e_phoff, = struct.unpack_from(end + "Q", data, 0x20)
        e_phentsize, e_phnum = struct.unpack_from(end + "HH", data, 0x36)
        ph_fmt, dyn_fmt = end + "IIQQQQQQ", end + "qQ"
    else:
        e_phoff, = struct.unpack_from(end + "I", data, 0x1C)
        e_phentsize, e_phnum = struct.unpack_from(end + "HH", data, 0x2A)
        ph_fmt, dyn_fmt = end + "IIIIIIII", end + "iI"
    loads, dynamic = [], None
    for i in range(e_phnum):
        f = struct.unpack_from(ph_fmt, data, e_phoff + i * e_phentsize)
        if is64:
            p_type, _, p_offset, p_vaddr, _, p_filesz = f[:6]
        else:
            p_type, p_offset, p_vaddr, _, p_filesz = f[:5]
        if p_type == PT_LOAD:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
    if dynamic is None:
        return None, []

    def file_offset(vaddr):
        for v, o, size in loads:
            if v <= vaddr < v + size:
                return vaddr - v + o
        return vaddr

    entries, step = [], struct.calcsize(dyn_fmt)
    for off in range(dynamic[0], dynamic[0] + dynamic[1], step):
        tag, val = struct.unpack_from(dyn_fmt, data, off)
        if tag == 0:
            break
        entries.append((tag, val))
    strtab = next((file_offset(v) for t, v in entries if t == DT_STRTAB), None)
    if strtab is None:
        return None, []

    def string(offset):
        stop = data.index(b"\0", strtab + offset)
        return data[strtab + offset:stop].decode("utf-8", "replace")

    soname = next((string(v) for t, v in entries if t == DT_SONAME), None)
    return soname, [string(v) for t, v in entries if t == DT_NEEDED]
