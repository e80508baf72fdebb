"""The GAN Gallery's parts: the training record epoch by epoch (a player over the same noise),
the timelapse GIF, and live punks on request with the classifier's verdict and a latent walk."""

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from punks_core.constants import BACKGROUND_HEX
from punks_core.dataset import Punks
from punks_core.gan_quality import differing_pixels
from punks_core.gan_snapshots import punks_png
from punks_core.labels import ACCESSORIES, TYPES
from ui.charts import plain_numbers
from ui.loaders import cached_classifier, cached_generator, cached_snapshots, shipped_punks_index
from ui.pixels import show_labelled_rows

ALL_TYPES = "All types"
LOSSES = {
    "d_loss": "discriminator",
    "g_loss": "generator",
    "reconstruction": "repainting a real punk (nats a pixel)",
}
AGREEMENT = {f"agree_{t.lower()}": t for t in TYPES}
FRAME_SECONDS = 0.4
BLUE = BACKGROUND_HEX
ROW_WIDTH = 880  # CSS pixels a row of punks may take before the page scrolls sideways
state = st.session_state


def shipped_epoch(snapshots) -> int:
    """The epoch of the shipped generator (the best on validation punks), within the record."""
    first, last = snapshots.epochs[0], snapshots.epochs[-1]
    return min(max(int(snapshots.run.get("best_epoch", last)), first), last)


def toggle_play(first: int, last: int) -> None:
    if not state.gan_playing and state.gan_epoch >= last:
        state.gan_epoch = first  # play from the start once the end is reached
    state.gan_playing = not state.gan_playing


def scale_for(count: int) -> int:
    """The largest whole zoom (2 to 6) that fits `count` punks in a row, pixels never shrunk."""
    return max(2, min(6, ROW_WIDTH // (25 * count)))


def curves(history: pd.DataFrame, columns: dict, title: str, epoch: int, y_title: str,
           log_y: bool = False):  # fmt: skip
    frame = history[[c for c in columns if c in history]].rename(columns=columns)
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


def training_view(snapshots, shown: str, epoch_slot, best_epoch: int) -> None:
    """One epoch of the record: its metrics, its grid and the curves. Run as a fragment that
    the player reruns every `FRAME_SECONDS`, one epoch further each time."""
    first, last = snapshots.epochs[0], snapshots.epochs[-1]
    history = snapshots.history.set_index("epoch")
    if state.gan_playing:
        if state.gan_epoch >= last:
            state.gan_playing = False
            st.rerun()  # a full rerun, to stop the timer
        state.gan_epoch += 1
    epoch = epoch_slot.slider("Epoch", first, last, key="gan_epoch")
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
    if epoch == best_epoch and (note := shipped_note(snapshots)):
        st.caption(note)
    show_curves(history, epoch)


def shipped_note(snapshots) -> str | None:
    """How the shipped generator differs from its epoch's grid: the grids show the painter
    asked for a type alone; the shipped one has a prior fitted again and a recipe book."""
    refit, book = snapshots.shipped_refit, snapshots.recipe_book
    said = ["The grids show the painter alone, asked for a type."]
    if refit:
        said.append(
            "After training, this epoch's noise prior (the small network that moves random "
            "noise to where real punks' noise lies) was fitted again for longer: FID ratio "
            f"{refit['fid_ratio']:.2f}, copies {refit['copies']:.1%} on the validation punks."
        )
    if book and "judged" in book:
        judged = book["judged"]
        said.append(
            "Live generation below first draws a whole outfit from a recipe book of "
            f"{book['recipes']:,} outfits no training punk wears, then paints it: FID ratio "
            f"{judged['fid_ratio']:.2f}, copies {judged['copies']:.1%} on the validation punks."
        )
    return " ".join(said) if len(said) > 1 else None


CURVES = ("Type agreement", "Punk FID", "Accessories found", "Losses")


def show_curves(history: pd.DataFrame, epoch: int) -> None:
    """The training curves, on request and one tab at a time (only what is open is drawn), the
    epoch marked. Closed at first: a Plotly chart costs a new tab about 0.6 s to load Plotly
    itself, and the page's grid and metrics are what a visitor comes for."""
    box = st.expander("Training curves, this epoch marked", key="gan_curves_box", on_change="rerun")
    if not box.open:
        return
    tabs = box.tabs(CURVES, key="gan_curves", on_change="rerun")
    if tabs[0].open:
        tabs[0].plotly_chart(
            curves(history, AGREEMENT, "Type agreement (the classifier's verdict)", epoch, "share"),
            key="gan_agreement",
        )
    if tabs[1].open:
        fid = {"fid": "generated vs validation", "real_fid": "train vs validation"}
        # A log axis: the first epoch's FID is a hundred times the rest and flattened them.
        tabs[1].plotly_chart(
            curves(history, fid, "Punk FID, all types together (log scale)", epoch, "FID", True),
            key="gan_fid",
        )
    if tabs[2].open:
        found = {"accessories_found": "found"}
        tabs[2].plotly_chart(
            curves(history, found, "Accessories asked for and found", epoch, "share"),
            key="gan_accessories",
        )
    if tabs[3].open:
        tabs[3].plotly_chart(curves(history, LOSSES, "Losses", epoch, "loss"), key="gan_losses")


@st.cache_data(max_entries=6, show_spinner="Drawing the timelapse…")
def timelapse(punk_type: str | None) -> bytes:
    return cached_snapshots().timelapse_gif(punk_type)


def timelapse_download(snapshots, shown: str) -> None:
    """The training as a GIF (of the type shown, or all), drawn only when asked for."""
    chosen_type = shown if shown in TYPES else None
    if st.button("Prepare the training timelapse (GIF)", key="gan_gif"):
        st.download_button(
            f"Download {len(snapshots.epochs)} epochs as a GIF",
            timelapse(chosen_type),
            file_name=f"punk_gan_{(chosen_type or 'all').lower()}.gif",
            mime="image/gif",
            key="gan_gif_download",
        )


# Live generation is cached per choice of its controls: the rest of the page (type, palette,
# play, the GIF) reruns the script without touching them, and each forward pass of the
# generator cost ~35 ms, the nearest-neighbour search over the 10,000 punks more.
@st.cache_data(max_entries=256, show_spinner=False)
def generated(
    punk_type: str, count: int, seed: int, accessories: tuple[str, ...]
) -> tuple[np.ndarray, list]:
    """The punks and, for each, the accessories of the recipe it was painted from."""
    samples, recipes = cached_generator().generate_with_recipes(punk_type, count, seed, accessories)
    outfits = [[ACCESSORIES[j] for j in np.flatnonzero(row[len(TYPES) :])] for row in recipes]
    return samples, outfits


@st.cache_data(max_entries=256, show_spinner=False)
def probabilities(samples: np.ndarray) -> pd.DataFrame:
    """The classifier's probability of every label, one row per sample."""
    return cached_classifier().predict_proba(samples)


def verdicts(found: pd.DataFrame, asked: tuple[str, ...]) -> pd.DataFrame:
    """The classifier's probability of each asked-for label, one column per sample."""
    table = found[list(asked)].T.map(lambda p: f"{'✓' if p >= 0.5 else '✗'} {p:.0%}")
    table.columns = [f"#{k + 1}" for k in range(len(found))]
    return table


def outfit_table(outfits: list, found: pd.DataFrame) -> pd.DataFrame:
    """Each punk's drawn outfit beside the accessories the classifier finds on it."""
    seen = [[name for name in ACCESSORIES if row[name] >= 0.5] for _, row in found.iterrows()]
    painted = [sum(name in s for name in o) for o, s in zip(outfits, seen, strict=True)]
    return pd.DataFrame(
        {
            "drawn from the recipe book": [", ".join(o) or "nothing" for o in outfits],
            "the classifier finds": [", ".join(s) or "nothing" for s in seen],
            "painted as drawn": [f"{p} of {len(o)}" for p, o in zip(painted, outfits, strict=True)],
        },
        index=[f"#{k + 1}" for k in range(len(outfits))],
    )


@st.cache_data(max_entries=256, show_spinner=False)
def walked(start: tuple[str, int], end: tuple[str, int], steps: int) -> np.ndarray:
    return cached_generator().interpolate(start, end, steps)


@st.cache_data(max_entries=8, show_spinner=False)
def wearable_for(punk_type: str) -> tuple[str, ...]:
    from punks_core.gan import wearable  # imports TensorFlow: the generator is loaded anyway

    return wearable(punk_type)


@st.cache_data(max_entries=256, show_spinner=False)
def nearest_real_rows(samples: np.ndarray) -> np.ndarray:
    return shipped_punks_index().nearest(samples)


def show_live_generation(punks: Punks) -> None:
    """New punks of a chosen type and accessories, their nearest real punks and verdicts."""
    options = st.columns([1, 3, 1, 1])
    live_type = options[0].selectbox(
        "Type", TYPES, index=TYPES.index("Female"), key="gan_live_type"
    )
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
    samples, outfits = generated(live_type, int(count), int(seed), asked)
    nearest_rows = nearest_real_rows(samples)
    nearest, nearest_ids = punks.images[nearest_rows], punks.ids[nearest_rows]
    asking = f"a {live_type}" + (f" with {', '.join(asked)}" if asked else "")
    st.caption(
        "The generator works in two steps, as a punk is made. It first draws a whole outfit "
        "that holds what you asked for from its recipe book (combinations of type and "
        "accessories that no training punk wears), then its network paints that outfit pixel "
        "by pixel, each pixel one of the punk palette's colours."
    )
    show_labelled_rows(
        [("Generated", samples), ("Nearest real", nearest)], scale_for(int(count)), BLUE
    )
    st.caption(
        f"Asked for {asking}. Below each generated punk: the nearest of the 10,000 real punks."
    )
    found = probabilities(samples)
    st.markdown("**The classifier's verdict on what was asked for** (✓ at 50 % or more)")
    st.table(verdicts(found, (live_type, *asked)))
    st.markdown("**What each punk was drawn to wear, and what the classifier sees on it**")
    st.table(outfit_table(outfits, found))
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


def show_latent_walk() -> None:
    """The generator's punks along a path from one type and seed to another."""
    walk = st.columns(5)
    start_type = walk[0].selectbox(
        "From type", TYPES, index=TYPES.index("Male"), key="gan_from_type"
    )
    start_seed = walk[1].number_input("From seed", 0, 2**32 - 1, 1, key="gan_from_seed")
    end_type = walk[2].selectbox("To type", TYPES, index=TYPES.index("Female"), key="gan_to_type")
    end_seed = walk[3].number_input("To seed", 0, 2**32 - 1, 2, key="gan_to_seed")
    steps = walk[4].slider("Steps", 2, 16, 8, key="gan_steps")
    path = walked((start_type, int(start_seed)), (end_type, int(end_seed)), int(steps))
    show_labelled_rows([(f"{start_type} → {end_type}", path)], scale_for(int(steps)), BLUE)
    st.caption(
        "The noise moves along a great circle from one seed's to the other's; the type "
        "condition blends linearly, so the middle punks are conditioned on a mix of both types."
    )
