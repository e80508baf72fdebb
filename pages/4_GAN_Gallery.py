"""GAN Gallery: a palette GAN's training, epoch by epoch over the same noise, and live punks on
request (a type and any accessories), each judged by the classifier."""

import streamlit as st

from punks_core.labels import TYPES
from ui.gan_gallery import (
    ALL_TYPES,
    FRAME_SECONDS,
    shipped_epoch,
    show_latent_walk,
    show_live_generation,
    timelapse_download,
    toggle_play,
    training_view,
)
from ui.loaders import generator_or_stop, punks_or_stop, snapshots_or_stop
from ui.navigation import page_header

state = st.session_state

page_header(__file__)
st.caption(
    "A conditional GAN learned to paint punks of a chosen type and accessories, choosing every "
    "pixel among the 222 colours real punks use. Every epoch drew the same noise for each type, "
    "so the frames below can be compared; our own classifier judged them against validation "
    "punks the GAN never trained on."
)
snapshots = snapshots_or_stop()
best_epoch = shipped_epoch(snapshots)
state.setdefault("gan_epoch", best_epoch)  # open on the shipped generator's epoch
state.setdefault("gan_playing", False)

shown = st.segmented_control(
    "Type", [ALL_TYPES, *TYPES], default=ALL_TYPES, required=True, key="gan_type"
)
controls = st.columns([1, 2, 5])
controls[0].button(
    "⏸ Pause" if state.gan_playing else "▶ Play", key="gan_play", on_click=toggle_play,
    args=(snapshots.epochs[0], snapshots.epochs[-1]),
)  # fmt: skip
controls[1].caption(f"The shipped generator is epoch {best_epoch}, the best on validation punks.")
player = st.fragment(training_view, run_every=FRAME_SECONDS if state.gan_playing else None)
player(snapshots, shown, controls[2], best_epoch)
timelapse_download(snapshots, shown)

st.header("Generate new punks")
generator_or_stop()  # loaded here, so that a missing or broken model is a message
show_live_generation(punks_or_stop())

st.subheader("Walk through latent space")
show_latent_walk()
