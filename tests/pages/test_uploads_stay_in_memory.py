"""Uploads stay in memory: an audit hook watches every file opened while a page reads one."""

import io
import os
import sys

import numpy as np
import pytest
from PIL import Image

from punks_core.imaging import composite, zoom

_WRITES: list[str] = []
_WATCHING = [False]
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND


def _watch_writes(event: str, args: tuple) -> None:
    # An audit hook sees every file the interpreter opens, whoever opens it.
    if not _WATCHING[0] or event != "open":
        return
    path, mode, flags = args
    writing = any(c in mode for c in "wax+") if isinstance(mode, str) else flags & _WRITE_FLAGS
    if writing:
        _WRITES.append(str(path))


sys.addaudithook(_watch_writes)


def png_of(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("page", "source_key", "source"),
    [
        ("pages/3_Live_Classifier.py", "classifier_source", "Upload an image"),
        ("pages/5_Convolution_Lab.py", "conv_source", "Upload"),
    ],
)
def test_uploads_are_never_written_to_disk(open_page, punks, page, source_key, source):
    app = open_page(page)
    app.radio(key=source_key).set_value(source).run()
    upload = png_of(zoom(composite(punks.images[9010:9011])[0], 8))
    _WRITES.clear()
    _WATCHING[0] = True
    try:
        app.get("file_uploader")[0].set_value(("punk.png", upload, "image/png")).run()
    finally:
        _WATCHING[0] = False
    assert not app.exception
    assert _WRITES == []
