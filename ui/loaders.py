"""The shipped data and models, loaded once per server, and the guards that stop a page.

Every loader is an `st.cache_resource` (read-only, one copy shared by every session) or an
`st.cache_data` of something derived from the shipped files. Each `*_or_stop` guard returns
what a page needs, or says in words what is missing (and how to get it) and ends the page with
`st.stop()`. Only `cached_classifier` and `cached_generator` import TensorFlow.
"""

import contextlib
import gc
import os
import threading

import numpy as np
import pandas as pd
import streamlit as st

from punks_core.dataset import Punks, load_punks, rarity
from punks_core.errors import DatasetError, PunksError
from punks_core.labels import ACCESSORIES


def freeze_heap(loaded):
    """Take everything loaded so far out of the garbage collector's full passes; return `loaded`.

    After every rerun Streamlit runs two full collections (`runner.postScriptGC`, and
    `keras.backend.clear_session()` once Keras is imported). With TensorFlow and the models in
    memory (about 310,000 objects) each took ~150 ms of CPU here: ~300 ms on every rerun of
    every page, more than most pages' own work. Frozen objects are skipped (both under 1 ms);
    they are the long-lived ones anyway (cached datasets, models, modules).
    """
    gc.collect()
    gc.freeze()
    return loaded


@st.cache_resource(show_spinner="Loading the 10,000 punks…")
def shipped_punks() -> Punks:
    # A resource, not data: the arrays are read-only, so every session can share one copy
    # instead of unpickling 23 MB on each rerun.
    return freeze_heap(load_punks())


def punks_or_stop() -> Punks:
    """The shipped dataset, or a clear error and the end of the page."""
    try:
        return shipped_punks()
    except DatasetError as error:
        st.error(f"The dataset cannot be loaded: {error}")
        st.stop()


@st.cache_resource(show_spinner="Loading the punk layers…")
def shipped_layers():
    from punks_core.layers import load_layers

    return load_layers()


def layers_or_stop():
    """The shipped punk layers (sprites), or a clear error and the end of the page."""
    try:
        return shipped_layers()
    except DatasetError as error:
        st.error(f"The punk layers cannot be loaded: {error}")
        st.stop()


@st.cache_resource
def shipped_punk_table() -> pd.DataFrame:
    """One row per shipped punk: type, accessories, their count and rarity (rank 1 = rarest)."""
    punks = shipped_punks()
    accessories = punks.labels[list(ACCESSORIES)].to_numpy().astype(bool)
    names = np.array(ACCESSORIES)
    ranks = rarity(punks)
    return pd.DataFrame(
        {
            "type": punks.types,
            "accessories": [", ".join(names[row]) for row in accessories],
            "count": punks.accessory_count,
            "rarity rank": ranks["rank"],
            "rarity score": ranks["score"].round(1),
        },
        index=punks.labels.index,
    )


@st.cache_data
def shipped_colour_count() -> int:
    """Distinct RGBA colours over all shipped punks (one uint32 per pixel, hashed)."""
    images = shipped_punks().images
    return len(pd.unique(np.ascontiguousarray(images).view(np.uint32).ravel()))


@st.cache_resource(show_spinner="Indexing the 10,000 punks for neighbour search…")
def shipped_punks_index():
    """The shipped punks indexed for nearest-neighbour search, built once per server."""
    from punks_core.gan_quality import RealPunks

    return RealPunks(shipped_punks().images)


@st.cache_resource(show_spinner="Loading the classifier (TensorFlow starts once)…")
def cached_classifier(kind: str = "cnn"):
    """The shipped classifier of `kind`, loaded once per server and shared by every page."""
    from punks_core.classifier import load_classifier  # imports TensorFlow: only when asked

    return freeze_heap(load_classifier(kind=kind))


def classifier_or_stop(kind: str = "cnn"):
    """The shipped classifier of `kind`, or the reason it is missing and the end of the page."""
    try:
        return cached_classifier(kind)
    except PunksError as error:
        st.error(f"The {kind.upper()} classifier is not available: {error}")
        st.stop()


@st.cache_resource(show_spinner="Loading the generator (TensorFlow starts once)…")
def cached_generator():
    from punks_core.gan import load_generator  # imports TensorFlow: only when asked

    return freeze_heap(load_generator())


def generator_or_stop():
    """The shipped generator, or why live generation is unavailable and the end of the page."""
    try:
        return cached_generator()
    except PunksError as error:
        st.info(f"Live generation is unavailable: {error}")
        st.stop()


@st.cache_resource(show_spinner="Reading the GAN's training record…")
def cached_snapshots():
    from punks_core.gan_snapshots import Snapshots

    return Snapshots()


def snapshots_or_stop():
    """The shipped GAN snapshots, or what is wrong and how to rebuild them, and the end."""
    try:
        return cached_snapshots()
    except PunksError as error:
        st.info(f"The GAN gallery has nothing to show yet: {error}")
        st.stop()


def read_upload_or_stop(upload, reader):
    """Decode an uploaded file with `reader` (bytes -> array), in memory only, or stop."""
    try:
        return reader(upload.getvalue())
    except PunksError as error:
        st.error(f"**{upload.name}**: {error}")
        st.stop()


def warm_up_models() -> None:
    """Load TensorFlow, the classifier and the generator once per server, in the background.

    TensorFlow alone takes seconds to import on a small CPU: started when the first visitor
    opens any page, it is ready by the time they reach a page that needs a model. The loaders
    are the cached ones the pages use, so nothing loads twice; a missing model is no error
    here (its page says what to do). PUNKLAB_WARM_UP=0 turns it off (the AppTests do).
    """
    if os.environ.get("PUNKLAB_WARM_UP", "1") != "0":
        _start_warm_up()


@st.cache_resource(show_spinner=False)
def _start_warm_up() -> None:
    # Cached: one thread per server process, whichever session gets here first.
    def load() -> None:
        for loader in (cached_classifier, cached_generator):
            # Any failure: the page that needs the model reports it in words.
            with contextlib.suppress(Exception):
                loader()

    threading.Thread(target=load, name="punklab-warm-up", daemon=True).start()
