"""GAN Gallery: a conditional DCGAN's training, epoch by epoch over the same noise, and live."""

import numpy as np
import plotly.express as px
import streamlit as st

from lab_ui import (
    cached_generator,
    punks_or_stop,
    real_punks_index,
    show_punk_grid,
    snapshots_or_stop,
)
from punks_core.errors import PunksError
from punks_core.gan_quality import differing_pixels, snap_to_palette
from punks_core.gan_snapshots import punks_png
from punks_core.labels import TYPES

ALL_TYPES = "All types"
LOSSES = {"d_loss": "discriminator", "g_loss": "generator"}
AGREEMENT = {f"agree_{t.lower()}": t for t in TYPES}
FRAME_SECONDS = 0.4
state = st.session_state

st.set_page_config(page_title="GAN Gallery · Punk Lab", page_icon="🎨", layout="wide")
st.title("🎨 GAN Gallery")
st.caption(
    "A conditional DCGAN learned to draw punks of a chosen type. Every epoch drew the same "
    "noise for each type, so the frames below can be compared; our own classifier judged them."
)
snapshots = snapshots_or_stop()
history = snapshots.history.set_index("epoch")
first, last = snapshots.epochs[0], snapshots.epochs[-1]
state.setdefault("gan_epoch", last)
state.setdefault("gan_playing", False)


def toggle_play() -> None:
    if not state.gan_playing and state.gan_epoch >= last:
        state.gan_epoch = first  # play from the start once the end is reached
    state.gan_playing = not state.gan_playing


def curves(columns: dict, title: str, epoch: int, y_title: str):
    frame = history[list(columns)].rename(columns=columns)
    figure = px.line(frame, title=title, labels={"value": y_title, "variable": ""})
    figure.add_vline(epoch, line_dash="dot", line_color="white")
    return figure.update_layout(height=280, margin=dict(t=40, b=10), legend_title_text="")


shown = st.segmented_control("Type", [ALL_TYPES, *TYPES], default=ALL_TYPES, key="gan_type")
controls = st.columns([1, 2, 5])
controls[0].button(
    "⏸ Pause" if state.gan_playing else "▶ Play", key="gan_play", on_click=toggle_play
)
snap = controls[1].toggle(
    "Snap to the punk palette",
    key="gan_snap",
    help="Replace every generated pixel by the nearest of the 222 colours real punks use.",
)


def finish(samples):
    return snap_to_palette(samples) if snap else samples


@st.fragment(run_every=FRAME_SECONDS if state.gan_playing else None)
def training_view() -> None:
    if state.gan_playing:
        if state.gan_epoch >= last:
            state.gan_playing = False
            st.rerun()  # a full rerun, to stop the timer
        state.gan_epoch += 1
    epoch = controls[2].slider("Epoch", first, last, key="gan_epoch")
    samples = finish(snapshots.grid(epoch))
    if shown and shown != ALL_TYPES:
        samples = samples[[TYPES.index(shown)]]
    row = history.loc[epoch]
    stats = st.columns(4)
    stats[0].metric("Punk FID (lower is better)", f"{row['fid']:.0f}")
    stats[1].metric("Real vs real FID", f"{row['real_fid']:.0f}")
    if shown in TYPES:
        stats[2].metric(f"Type agreement, {shown}", f"{row[f'agree_{shown.lower()}']:.0%}")
    else:
        stats[2].metric("Type agreement, mean of 5 types", f"{row[list(AGREEMENT)].mean():.0%}")
    stats[3].metric("Copies of real punks", f"{row['copies']:.1%}")
    show_punk_grid(samples.reshape(-1, 24, 24, 4), samples.shape[1], 6, "#638596")
    left, right = st.columns(2)
    left.plotly_chart(curves(LOSSES, "Losses", epoch, "loss"), key="gan_losses")
    right.plotly_chart(
        curves(AGREEMENT, "Type agreement (the classifier's verdict)", epoch, "share"),
        key="gan_agreement",
    )
    st.plotly_chart(
        curves({"fid": "generated vs test", "real_fid": "train vs test"}, "Punk FID", epoch, "FID"),
        key="gan_fid",
    )


training_view()


@st.cache_data(max_entries=6, show_spinner="Drawing the timelapse…")
def timelapse(punk_type: str | None) -> bytes:
    return snapshots.timelapse_gif(punk_type)


chosen_type = shown if shown in TYPES else None
if st.button("Prepare the training timelapse (GIF)", key="gan_gif"):
    st.download_button(
        f"Download {len(snapshots.epochs)} epochs as a GIF",
        timelapse(chosen_type),
        file_name=f"punk_gan_{(chosen_type or 'all').lower()}.gif",
        mime="image/gif",
        key="gan_gif_download",
    )

st.header("Generate new punks")
try:
    generator = cached_generator()
except PunksError as error:
    st.info(f"Live generation is unavailable: {error}")
    st.stop()
punks = punks_or_stop()
options = st.columns(3)
live_type = options[0].selectbox("Type", TYPES, index=TYPES.index("Female"), key="gan_live_type")
seed = options[1].number_input("Seed", 0, 2**32 - 1, 42, key="gan_seed")
count = options[2].slider("How many", 1, 24, 8, key="gan_count")
samples = finish(generator.generate(live_type, int(count), int(seed)))
nearest_rows = real_punks_index(punks).nearest(samples)
nearest, nearest_ids = punks.images[nearest_rows], punks.ids[nearest_rows]
st.caption("Top: generated. Bottom: the nearest of the 10,000 real punks (pixel distance).")
show_punk_grid(np.concatenate([samples, nearest]), int(count), 6, "#638596")
pixels = differing_pixels(snap_to_palette(samples), nearest)
st.caption(
    "Nearest real punks: "
    + ", ".join(f"#{i} ({p} px differ)" for i, p in zip(nearest_ids, pixels, strict=True))
)
st.download_button(
    "Download these punks (PNG)",
    punks_png(samples, int(count)),
    file_name=f"generated_{live_type.lower()}_seed{seed}.png",
    mime="image/png",
    key="gan_download",
)

st.subheader("Walk through latent space")
walk = st.columns(5)
start_type = walk[0].selectbox("From type", TYPES, index=TYPES.index("Male"), key="gan_from_type")
start_seed = walk[1].number_input("From seed", 0, 2**32 - 1, 1, key="gan_from_seed")
end_type = walk[2].selectbox("To type", TYPES, index=TYPES.index("Female"), key="gan_to_type")
end_seed = walk[3].number_input("To seed", 0, 2**32 - 1, 2, key="gan_to_seed")
steps = walk[4].slider("Steps", 2, 16, 8, key="gan_steps")
path = generator.interpolate((start_type, int(start_seed)), (end_type, int(end_seed)), int(steps))
show_punk_grid(finish(path), int(steps), 6, "#638596")
st.caption(
    "The noise moves along a great circle from one seed's to the other's; the type condition "
    "blends linearly, so the middle punks are conditioned on a mix of both types."
)
