#!/bin/sh
# Start a command on an X display and print the seconds until its first visible top-level
# window whose title contains PATTERN is mapped (xdotool), then screenshot the screen.
# Usage: DISPLAY=:99 packaging/time_to_window.sh PATTERN SCREENSHOT.png COMMAND [ARGS...]
# Needs xdotool on this machine; the screenshot uses a Python with PySide6 (PYTHON, default
# .venv/bin/python), taken from outside any chroot the app runs in.
set -eu
pattern=$1; shot=$2; shift 2
python=${PYTHON:-$(dirname "$0")/../.venv/bin/python}
start=$(date +%s.%N)
"$@" >/tmp/fid-studio-window.log 2>&1 &
pid=$!
if ! timeout 60 xdotool search --sync --onlyvisible --name "$pattern" >/dev/null; then
    echo "no window titled *$pattern* within 60 s; app output:" >&2
    cat /tmp/fid-studio-window.log >&2
    kill "$pid" 2>/dev/null || true
    exit 1
fi
end=$(date +%s.%N)
echo "time to window: $(echo "$end - $start" | bc) s"
sleep 2   # let the first paint finish before the screenshot
QT_QPA_PLATFORM=xcb "$python" - "$shot" <<'PY'
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication(sys.argv[:1])
ok = app.primaryScreen().grabWindow(0).save(sys.argv[1])
print(f"screenshot {'saved to ' + sys.argv[1] if ok else 'FAILED'}")
PY
xprop -id "$(xdotool search --onlyvisible --name "$pattern" | head -1)" WM_CLASS _NET_WM_NAME || true
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
