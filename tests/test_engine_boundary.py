import subprocess
import sys

from conftest import ROOT


def test_engine_imports_no_qt():
    code = ("import sys, engine.run.job, engine.features.pipeline, engine.outputs.history, engine.inputs.checkpoints, cli;"
            "bad=[m for m in sys.modules if m.split('.')[0] in ('PySide6','shiboken6','pyqtgraph','PyQt5','PyQt6')];"
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
