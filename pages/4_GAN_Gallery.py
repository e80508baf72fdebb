"""GAN Gallery: a palette GAN's training, epoch by epoch over the same noise, and live punks on
request (a type and any accessories), each judged by the classifier."""

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from lab_ui import (
    cached_classifier,
    cached_generator,
    page_header,
    plain_numbers,
    punks_or_stop,
    real_punks_index,
    show_labelled_rows,
    snapshots_or_stop,
)
from punks_core.errors import PunksError
from punks_core.gan_quality import differing_pixels
from punks_core.gan_snapshots import punks_png
from punks_core.labels import TYPES

ALL_TYPES = "All types"
LOSSES = {"d_loss": "discriminator", "g_loss": "generator"}
AGREEMENT = {f"agree_{t.lower()}": t for t in TYPES}
QUALITY = {"fid_ratio": "FID ratio (generated / real)", "accessories_found": "accessories found"}
FRAME_SECONDS = 0.4
BLUE = "#638596"
ROW_WIDTH = 880  # CSS pixels a row of punks may take before the page scrolls sideways
state = st.session_state

page_header(__file__)
st.caption(
    "A conditional GAN learned to paint punks of a chosen type and accessories, choosing every "
    "pixel among the 222 colours real punks use. Every epoch drew the same noise for each type, "
    "so the frames below can be compared; our own classifier judged them against validation "
    "punks the GAN never trained on."
)
snapshots = snapshots_or_stop()
history = snapshots.history.set_index("epoch")
first, last = snapshots.epochs[0], snapshots.epochs[-1]
best_epoch = min(max(int(snapshots.run.get("best_epoch", last)), first), last)
state.setdefault("gan_epoch", best_epoch)  # open on the shipped generator's epoch
state.setdefault("gan_playing", False)


def toggle_play() -> None:
    if not state.gan_playing and state.gan_epoch >= last:
        state.gan_epoch = first  # play from the start once the end is reached
    state.gan_playing = not state.gan_playing


def curves(columns: dict, title: str, epoch: int, y_title: str, log_y: bool = False):
    frame = history[list(columns)].rename(columns=columns)
    return curves_figure(frame, title, epoch, y_title, log_y)


@st.cache_resource(max_entries=1024, show_spinner=False)
def curves_figure(frame: pd.DataFrame, title: str, epoch: int, y_title: str, log_y: bool):
    # Cached per epoch and shared by every session: Plotly Express took ~50 ms a chart, three
    # charts on every frame of the player. The figures are never changed after this.
    # Plotly's own qualitative colours: blue, red, green, purple, orange stay apart on the dark
    # theme, where the default sequence gives near-identical blues.
    figure = px.line(
        frame, title=title, labels={"value": y_title, "variable": ""}, log_y=log_y,
        color_discrete_sequence=px.colors.qualitative.Plotly,
    )  # fmt: skip
    figure.add_vline(epoch, line_dash="dot", line_color="white")
    if log_y:
        figure.update_yaxes(dtick=1)  # ticks at powers of ten only, not "2, 5, 2, 5"
    figure.update_layout(height=280, margin=dict(t=40, b=10), legend_title_text="")
    return plain_numbers(figure)


def scale_for(count: int) -> int:
    """The largest whole zoom (2 to 6) that fits `count` punks in a row, pixels never shrunk."""
    return max(2, min(6, ROW_WIDTH // (25 * count)))


shown = st.segmented_control(
    "Type", [ALL_TYPES, *TYPES], default=ALL_TYPES, required=True, key="gan_type"
)
controls = st.columns([1, 2, 5])
controls[0].button(
    "⏸ Pause" if state.gan_playing else "▶ Play", key="gan_play", on_click=toggle_play
)
controls[1].caption(f"The shipped generator is epoch {best_epoch}, the best on validation punks.")


# Live generation is cached per choice of its controls: the rest of the page (type, palette,
# play, the GIF) reruns the script without touching them, and each forward pass of the
# generator cost ~35 ms, the nearest-neighbour search over the 10,000 punks more.
@st.cache_data(max_entries=256, show_spinner=False)
def generated(punk_type: str, count: int, seed: int, accessories: tuple[str, ...]) -> np.ndarray:
    return cached_generator().generate(punk_type, count, seed, accessories)


@st.cache_data(max_entries=256, show_spinner=False)
def verdicts(samples: np.ndarray, asked: tuple[str, ...]) -> pd.DataFrame:
    """The classifier's probability of each asked-for label, one column per sample."""
    probabilities = cached_classifier().predict_proba(samples)[list(asked)]
    table = probabilities.T.map(lambda p: f"{'✓' if p >= 0.5 else '✗'} {p:.0%}")
    table.columns = [f"#{k + 1}" for k in range(len(samples))]
    return table


@st.cache_data(max_entries=256, show_spinner=False)
def walked(start: tuple[str, int], end: tuple[str, int], steps: int) -> np.ndarray:
    return cached_generator().interpolate(start, end, steps)


@st.cache_data(max_entries=8, show_spinner=False)
def wearable_for(punk_type: str) -> tuple[str, ...]:
    from punks_core.gan import wearable  # imports TensorFlow: the generator is loaded anyway

    return wearable(punk_type)


@st.cache_data(max_entries=256, show_spinner=False)
def nearest_real_rows(samples: np.ndarray) -> np.ndarray:
    return real_punks_index(punks_or_stop()).nearest(samples)


@st.fragment(run_every=FRAME_SECONDS if state.gan_playing else None)
def training_view() -> None:
    if state.gan_playing:
        if state.gan_epoch >= last:
            state.gan_playing = False
            st.rerun()  # a full rerun, to stop the timer
        state.gan_epoch += 1
    epoch = controls[2].slider("Epoch", first, last, key="gan_epoch")
    samples = snapshots.grid(epoch)
    rows = list(TYPES) if shown not in TYPES else [shown]
    row = history.loc[epoch]
    stats = st.columns(4)
    stats[0].metric(
        "FID ratio, all types (lower is better)", f"{row['fid_ratio']:.2f}",
        help="Fréchet distance between generated and real validation punks in the classifier's "
        "feature space, divided by the distance between training and validation punks: 1.0 "
        "would be as close as real punks are to each other. All five types together.",
    )  # fmt: skip
    if shown in TYPES:
        stats[1].metric(f"Type agreement, {shown}", f"{row[f'agree_{shown.lower()}']:.0%}")
    else:
        stats[1].metric("Type agreement, worst type", f"{row[list(AGREEMENT)].min():.0%}")
    stats[2].metric(
        "Accessories found", f"{row.get('accessories_found', 0):.0%}",
        help="Of punks asked for one common accessory (Cap, Pipe, Blonde Bob, …), the share in "
        "which the classifier finds it.",
    )  # fmt: skip
    stats[3].metric("Copies of training punks", f"{row['copies']:.1%}")
    show_labelled_rows(
        [(name, samples[TYPES.index(name)]) for name in rows], scale_for(samples.shape[1]), BLUE
    )
    shipped = " — the shipped generator" if epoch == best_epoch else ""
    st.caption(f"Epoch {epoch}{shipped}: the same noise for every epoch, one row per type.")
    left, right = st.columns(2)
    left.plotly_chart(curves(LOSSES, "Losses", epoch, "loss"), key="gan_losses")
    right.plotly_chart(
        curves(AGREEMENT, "Type agreement (the classifier's verdict)", epoch, "share"),
        key="gan_agreement",
    )
    left, right = st.columns(2)
    fid = {"fid": "generated vs validation", "real_fid": "train vs validation"}
    # A log axis: the first epoch's FID is a hundred times the rest and flattened them.
    fid_chart = curves(fid, "Punk FID, all types together (log scale)", epoch, "FID", log_y=True)
    left.plotly_chart(fid_chart, key="gan_fid")
    right.plotly_chart(
        curves({"accessories_found": "found"}, "Accessories asked for and found", epoch, "share"),
        key="gan_accessories",
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
    cached_generator()  # loaded here, so that a missing or broken model is a message
except PunksError as error:
    st.info(f"Live generation is unavailable: {error}")
    st.stop()
punks = punks_or_stop()
options = st.columns([1, 3, 1, 1])
live_type = options[0].selectbox("Type", TYPES, index=TYPES.index("Female"), key="gan_live_type")
asked = tuple(
    options[1].multiselect(
        "Wearing",
        wearable_for(live_type),
        key=f"gan_live_accessories_{live_type}",
        placeholder="any accessories (the generator chooses)",
        help="Ask for any accessories this type can wear; the rest are the generator's choice.",
    )
)
seed = options[2].number_input("Seed", 0, 2**32 - 1, 42, key="gan_seed")
count = options[3].slider("How many", 1, 24, 8, key="gan_count")
samples = generated(live_type, int(count), int(seed), asked)
nearest_rows = nearest_real_rows(samples)
nearest, nearest_ids = punks.images[nearest_rows], punks.ids[nearest_rows]
asking = f"a {live_type}" + (f" with {', '.join(asked)}" if asked else "")
show_labelled_rows([("Generated", samples), ("Nearest real", nearest)], scale_for(int(count)), BLUE)
st.caption(f"Asked for {asking}. Below each generated punk: the nearest of the 10,000 real punks.")
st.markdown("**The classifier's verdict on what was asked for** (✓ at 50 % or more)")
st.dataframe(verdicts(samples, (live_type, *asked)), key="gan_verdicts")
pixels = differing_pixels(samples, nearest)
st.caption(
    "Nearest real punks (pixel distance): "
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
path = walked((start_type, int(start_seed)), (end_type, int(end_seed)), int(steps))
show_labelled_rows([(f"{start_type} → {end_type}", path)], scale_for(int(steps)), BLUE)
st.caption(
    "The noise moves along a great circle from one seed's to the other's; the type condition "
    "blends linearly, so the middle punks are conditioned on a mix of both types."
)
