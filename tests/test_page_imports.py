"""Pages that need no model must never import TensorFlow (it costs seconds and memory).

The Convolution Lab has its own, stronger check (controls used) in its page test module.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = """
import os, sys
os.environ["PUNKLAB_WARM_UP"] = "0"  # app.py's background model loading, tested apart
from streamlit.testing.v1 import AppTest
app = AppTest.from_file({path!r}, default_timeout=60)
app.run()
assert not app.exception, [e.value for e in app.exception]
print("tensorflow" in sys.modules, "keras" in sys.modules)
"""


@pytest.mark.parametrize(
    "page",
    [
        "app.py",
        "pages/1_Dataset_Explorer.py",
        "pages/2_Class_Balance.py",
        "pages/5_Convolution_Lab.py",
        "pages/6_Sweeps.py",
        "pages/8_Training_Studio.py",  # until a run starts: the training thread imports Keras
    ],
)
def test_page_does_not_import_tensorflow(page):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(path=str(ROOT / page))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["False", "False"]
