#!/bin/sh
# Build the one-folder app dist/fid-studio/ with PyInstaller, then run its --selftest.
#   packaging/build_bundle.sh            GPU build (onnxruntime-gpu's CUDA provider inside)
#   FID_STUDIO_VARIANT=cpu packaging/build_bundle.sh     CPU-only build in dist/cpu/ (smaller)
#   SKIP_SELFTEST=1 packaging/build_bundle.sh            build only
# Needs: the venv (.venv, or PYTHON=...) with requirements.txt + pyinstaller, and the model
# (python main.py model build). Prints the bundle size by component (bundle_sizes.py).
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
[ -f models/fid_inception.onnx ] || { echo "models/fid_inception.onnx missing: run '$PYTHON main.py model build'" >&2; exit 2; }
[ -f gui/resources/icon.png ] || "$PYTHON" packaging/make_icon.py
case "${FID_STUDIO_VARIANT:-gpu}" in
    gpu) dist=dist; work=build/pyinstaller ;;
    cpu) dist=dist/cpu; work=build/pyinstaller-cpu ;;
    *) echo "FID_STUDIO_VARIANT must be gpu or cpu" >&2; exit 2 ;;
esac
start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$dist" --workpath "$work" pyinstaller.spec
echo "build: $(( $(date +%s) - start )) s"
eval "$("$PYTHON" packaging/app_meta.py)"
app=$dist/$APP_ID
echo "bundle: $(du -sh --apparent-size "$app" | cut -f1) ($(du -sb "$app" | cut -f1) bytes)"
"$PYTHON" packaging/bundle_sizes.py "$app"
if [ -z "${SKIP_SELFTEST:-}" ]; then
    env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen "$app/$APP_ID" --selftest
fi
