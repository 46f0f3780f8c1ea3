#!/bin/sh
# Build packaging/out/<app-id>_<version>_amd64.deb from the PyInstaller bundle.
#   packaging/build_deb.sh [BUNDLE_DIR]        (default dist/<app-id>, from build_bundle.sh)
# A CPU-only bundle (dist/cpu/<app-id>, no CUDA provider inside) becomes the package
# <app-id>-cpu, which installs the same paths and conflicts with / replaces <app-id>.
# Layout: /opt/<app-id>/ (the bundle), /usr/bin/<app-id> -> /opt/<app-id>/<app-id>,
# /usr/share/applications/<app-id>.desktop, /usr/share/icons/hicolor/*/apps/<app-id>.{png,svg}.
# The icon and desktop caches are refreshed by the dpkg triggers of hicolor-icon-theme /
# desktop-file-utils where installed. One maintainer script, postrm: /opt is part of the base
# layout but no package owns it, so dpkg deletes it with our files when it becomes empty;
# postrm puts it back, and removal leaves the system as it was (checked by test_deb_bare.sh).
# Depends come from packaging/deb-depends.txt. Name and version: engine/__init__.py.
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3
eval "$("$PYTHON" packaging/app_meta.py)"
BUNDLE=${1:-dist/$APP_ID}
[ -x "$BUNDLE/$APP_ID" ] || { echo "no bundle at $BUNDLE: run packaging/build_bundle.sh first" >&2; exit 2; }
ARCH=$(dpkg --print-architecture)
OUT=packaging/out
STAGE=$OUT/deb-root
PACKAGE=$APP_ID
if [ ! -e "$BUNDLE/_internal/onnxruntime/capi/libonnxruntime_providers_cuda.so" ]; then
    PACKAGE=$APP_ID-cpu
fi
DEB=$OUT/${PACKAGE}_${VERSION}_${ARCH}.deb
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
         "$STAGE/usr/share/doc/$APP_ID"

cp -a "$BUNDLE" "$STAGE/opt/$APP_ID"
ln -s "/opt/$APP_ID/$APP_ID" "$STAGE/usr/bin/$APP_ID"
for png in packaging/icons/*x*.png; do
    size=$(basename "$png" .png)
    mkdir -p "$STAGE/usr/share/icons/hicolor/$size/apps"
    cp "$png" "$STAGE/usr/share/icons/hicolor/$size/apps/$APP_ID.png"
done
mkdir -p "$STAGE/usr/share/icons/hicolor/scalable/apps"
cp gui/resources/icon.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/$APP_ID.svg"
sed -e "s|@APP_NAME@|$APP_NAME|g" -e "s|@APP_ID@|$APP_ID|g" packaging/fid-studio.desktop.in \
    > "$STAGE/usr/share/applications/$APP_ID.desktop"
cat > "$STAGE/usr/share/doc/$APP_ID/copyright" <<TXT
$APP_NAME $VERSION, packaged with PyInstaller. /opt/$APP_ID/_internal holds the Python
runtime and these components under their own licences (texts in their upstream projects):
Python (PSF), NumPy, SciPy, scikit-learn (BSD-3-Clause), Pillow (MIT-CMU), pyqtgraph (MIT),
platformdirs (MIT), ONNX Runtime (MIT), Qt 6 / PySide6 (LGPL-3.0), the FID Inception
weights (Apache-2.0, TensorFlow models; converted by the app's model builder).
TXT

cat > "$STAGE/DEBIAN/postrm" <<'SH'
#!/bin/sh
set -e
case "$1" in
    remove|purge) [ -d /opt ] || install -d -m 0755 /opt ;;
esac
SH

find "$STAGE" -type d -exec chmod 0755 {} +
find "$STAGE" -type f -exec chmod go-w,a+r {} +
chmod 0755 "$STAGE/DEBIAN/postrm"

depends=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' packaging/deb-depends.txt | grep -v '^$' | paste -sd, - | sed 's/,/, /g')
installed_kb=$(du -sk --apparent-size --exclude=DEBIAN "$STAGE" | cut -f1)
{
    echo "Package: $PACKAGE"
    echo "Version: $VERSION"
    echo "Architecture: $ARCH"
    echo "Maintainer: $APP_NAME maintainers <noreply@localhost>"
    echo "Installed-Size: $installed_kb"
    [ -n "$depends" ] && echo "Depends: $depends"
    if [ "$PACKAGE" != "$APP_ID" ]; then
        echo "Provides: $APP_ID"
        echo "Conflicts: $APP_ID"
        echo "Replaces: $APP_ID"
    fi
    echo "Section: science"
    echo "Priority: optional"
    echo "Description: $APP_NAME - evaluate image generators (FID, KID, IS, SSIM)"
    echo " Desktop app and command line that score generated images against a reference"
    echo " set with the standard Inception features (clean-fid, pytorch-fid and TF"
    echo " conventions). Self-contained: the model is included."
    if [ "$PACKAGE" = "$APP_ID" ]; then
        echo " Runs on CPU; uses an NVIDIA GPU when the CUDA 13 and cuDNN 9 libraries are installed."
    else
        echo " This is the CPU-only build (no CUDA provider, smaller)."
    fi
} > "$STAGE/DEBIAN/control"

start=$(date +%s)
dpkg-deb --root-owner-group -Zzstd -z3 --build "$STAGE" "$DEB" >/dev/null
echo "built $DEB in $(( $(date +%s) - start )) s: $(du -h "$DEB" | cut -f1) ($(stat -c %s "$DEB") bytes), installed size $(( installed_kb / 1024 )) MiB"
echo "Depends: ${depends:-<none>}"
