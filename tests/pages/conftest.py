"""AppTest helpers: run a page script from the repository root as `streamlit run` would."""

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
# No background model loading in AppTests: it would import TensorFlow into every test process.
os.environ["PUNKLAB_WARM_UP"] = "0"


@pytest.fixture
def open_page():
    """`open_page("pages/1_Dataset_Explorer.py")` -> an AppTest that has run once, cleanly."""

    def _open(relative_path: str, timeout: float = 60) -> AppTest:
        app = AppTest.from_file(str(ROOT / relative_path), default_timeout=timeout)
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        return app

    return _open
