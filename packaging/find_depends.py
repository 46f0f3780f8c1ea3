"""Which system libraries does the installed bundle still miss on a given root file system?

    python packaging/find_depends.py ROOT [--prefix /opt/fid-studio]

ROOT is e.g. a bare Debian chroot where the .deb (or the bundle) was unpacked. For every ELF
file of the bundle, each DT_NEEDED soname must be in the bundle or in ROOT's library folders;
missing ones are listed with the Debian package that provides them on this (build) machine
(`dpkg -S`). Files that Qt or onnxruntime load only when present (optional plugins, the CUDA
provider) are reported separately: their libraries are not Depends.
Exit status: 1 when a required library is missing, else 0.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import elfdeps  # noqa: E402

LIB_DIRS = ("lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib64", "lib", "usr/lib", "usr/lib64")
# Loaded only where their libraries exist; the app works without them.
OPTIONAL = {
    "libqgtk3.so": "GTK3 platform theme (native dialogs on GTK desktops)",
    "libqxdgdesktopportal.so": "XDG portal platform theme",
    "libibusplatforminputcontextplugin.so": "IBus input methods",
    "libqxcb-glx-integration.so": "OpenGL (GLX) in Qt widgets",
    "libqxcb-egl-integration.so": "OpenGL (EGL) in Qt widgets",
    "libonnxruntime_providers_cuda.so": "CUDA: NVIDIA driver + CUDA 13 + cuDNN 9 (see README)",
    "libcupsprintersupport.so": "printing through CUPS",
}


def owner_package(soname: str) -> str:
    for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"):
        out = subprocess.run(["dpkg", "-S", f"{d}/{soname}"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout:
            return out.stdout.split(":")[0]
    return "?"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--prefix", default="/opt/fid-studio")
    args = ap.parse_args(argv)
    bundle = args.root / args.prefix.lstrip("/")
    files = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink() and elfdeps.is_elf(p)]
    provided = {p.name for p in bundle.rglob("*")}
    system = set()
    for d in LIB_DIRS:
        if (args.root / d).is_dir():
            system |= {p.name for p in (args.root / d).iterdir()}
    required, optional = defaultdict(set), defaultdict(set)
    for f in files:
        _, needed = elfdeps.dynamic_info(f)
        for lib in needed:
            if lib in provided or lib in system:
                continue
            (optional if f.name in OPTIONAL else required)[lib].add(f.relative_to(bundle).as_posix())
    optional = {lib: users for lib, users in optional.items() if lib not in required}
    print(f"{len(files)} ELF files under {bundle}")
    for title, found in (("REQUIRED (missing on this root)", required), ("optional (loaded if present)", optional)):
        print(f"{title}: {len(found)}")
        for lib in sorted(found):
            users = sorted(found[lib])
            print(f"  {lib:32s} {owner_package(lib):28s} needed by {users[0]}"
                  + (f" (+{len(users) - 1})" if len(users) > 1 else ""))
    pkgs = sorted({owner_package(lib) for lib in required})
    if pkgs:
        print("packages for Depends: " + ", ".join(pkgs))
    return 1 if required else 0


if __name__ == "__main__":
    sys.exit(main())
