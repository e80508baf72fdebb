"""Punk Lab's Streamlit side: everything the pages share, and the pages' bigger components.

`punks_core` knows nothing of Streamlit; this package is the only glue. Shared by every page:

- `navigation`: the page registry (`LAB_PAGES`), the app's navigation and each page's header
- `loaders`: the shipped data and models, cached once per server, and the `*_or_stop` guards
- `pixels`: punks drawn pixel-exact (HTML images at whole-number zooms)
- `layers`: a punk's layers in words and pictures
- `charts`: Plotly axes that read plainly
- `opensea`: a punk's live OpenSea data

One module per page component holds what a page draws beyond a few lines (`explorer`,
`class_balance`, `live_classifier`, `model_card`, `gan_gallery`, `kernel_editor`,
`convolution_lab`, `sweeps`, `punk_builder`, `studio_settings`, `studio_training`,
`studio_results`); each draws and returns what the user chose.
"""

import os

# Before anything imports TensorFlow (lazily, in `ui.loaders`): on a machine without a GPU it
# logs a "failed call to cuInit" error and start-up chatter that alarm people; real failures
# still raise in Python.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
