"""The Punk Builder's parts: the layer picker, the painted punk (or the last one that could be
painted), the CNN's verdict on each accessory, and the punk with one layer off at a time."""

import random

import numpy as np
import pandas as pd
import streamlit as st

from punks_core.dataset import Punks
from punks_core.errors import LayerError
from punks_core.imaging import composite, zoom
from punks_core.layer_order import in_paint_order
from ui.layers import layer_notes
from ui.pixels import png_data_url

THRESHOLD = 0.5
FIRST_PUNK = ("Male 2", ["Earring", "Hoodie", "Cigarette"])  # an earring no pixel shows
state = st.session_state


def start_with_the_first_punk() -> None:
    state.setdefault("builder_base", FIRST_PUNK[0])
    state.setdefault("builder_accessories", FIRST_PUNK[1])
    state.setdefault("builder_good", FIRST_PUNK)
    state.setdefault("builder_from_id", 0)


def keep_what_the_head_can_wear(layers) -> None:
    """After a base change, drop accessories with no sprite for the new head, and say so."""
    allowed = set(layers.accessories_for(state.builder_base))
    dropped = [name for name in state.builder_accessories if name not in allowed]
    state.builder_accessories = [n for n in state.builder_accessories if n in allowed]
    state.builder_note = (
        f"Taken off: {', '.join(dropped)} — no {state.builder_base} punk wears it."
        if dropped
        else ""
    )


def load_punk_layers(punks: Punks) -> None:
    """Start from a real punk: its base and every accessory it is labelled with."""
    row = punks.row(int(state.builder_from_id))
    state.builder_base = punks.bases.iloc[row]
    state.builder_accessories = punks.accessory_lists[row]
    state.builder_note = f"Punk #{state.builder_from_id}'s layers."


def random_new_punk(layers) -> None:
    """A random base with 1–4 accessories, one from each of different layer groups."""
    rng = random.Random()
    base = rng.choice(layers.bases)
    options = layers.accessories_for(base)
    state.builder_base = base
    state.builder_accessories = in_paint_order(rng.sample(options, rng.randint(1, 4)))
    state.builder_note = ""


def layer_picker(layers, punks: Punks) -> tuple[str, list[str]]:
    """The sidebar: base, accessories, and where to start from. Returns the choice."""
    with st.sidebar:
        st.header("Layers")
        base = st.selectbox(
            "Base (skin tone and head)", layers.bases, key="builder_base",
            on_change=keep_what_the_head_can_wear, args=(layers,),
        )  # fmt: skip
        accessories = st.multiselect(
            "Accessories", layers.accessories_for(base), key="builder_accessories",
            help="Painted bottom to top in the CryptoPunks contract's order, whatever order "
            "you pick them in. Only accessories a punk with this head wears are listed.",
        )  # fmt: skip
        if state.get("builder_note"):
            st.caption(state.builder_note)
        st.header("Start from")
        st.number_input("A real punk, by id", 0, len(punks.labels) - 1, key="builder_from_id")
        st.button("Load its layers", on_click=load_punk_layers, args=(punks,), key="builder_load")
        st.button(
            "🎲 Random new punk", on_click=random_new_punk, args=(layers,), key="builder_random"
        )
    return base, accessories


def painted_punk_or_last_good(layers, base: str, accessories: list[str]):
    """Render the choice; an impossible one is explained and the last good punk kept."""
    try:
        image = layers.render(base, accessories)
    except LayerError as error:
        st.error(f"This punk cannot be painted: {error} Showing the last one that could.")
        base, accessories = state.builder_good
        image = layers.render(base, accessories)
    state.builder_good = (base, list(accessories))
    return base, list(accessories), image


def open_in_convolution_lab(image: np.ndarray) -> None:
    """Hand the punk to the Convolution Lab, which opens on it."""
    state.builder_punk = image
    state.conv_from_builder = True
    st.switch_page("pages/5_Convolution_Lab.py")


def show_verdicts(layers, base, accessories, probabilities: pd.Series) -> None:
    """Each painted accessory (visible or hidden, and under what) beside the CNN's belief."""
    notes = layer_notes(layers, base, accessories)
    hidden = [name for name, note in notes.items() if note != "visible"]
    rows = [
        {
            "accessory": name,
            "on the punk": "painted and visible"
            if note == "visible"
            else f"painted, but {note}: no pixel shows it",
            "CNN": probabilities[name],
        }
        for name, note in notes.items()
    ]
    found = probabilities[layers.accessories_for(base)]
    for name in found[found >= THRESHOLD].index:
        if name not in accessories:
            rows.append({"accessory": name, "on the punk": "not painted", "CNN": found[name]})
    st.dataframe(
        pd.DataFrame(rows, columns=["accessory", "on the punk", "CNN"]),
        hide_index=True,
        column_config={
            "CNN": st.column_config.ProgressColumn(
                "CNN's probability", min_value=0.0, max_value=1.0, format="percent"
            )
        },
        key="builder_verdicts",
    )
    if hidden:
        st.caption(
            f"{', '.join(hidden)}: a label the CryptoPunks data would give this punk, yet drawn "
            "under another layer. No model that reads pixels can see it — that is why about 5 % "
            "of the 10,000 punks carry a label no classifier can get right."
        )


def show_one_layer_off(layers, base, accessories, classifier) -> None:
    """The punk without each accessory in turn, and what the CNN then reads."""
    if not accessories:
        st.info("Add an accessory in the sidebar to take layers off one at a time.")
        return
    images = np.stack(
        [layers.render(base, [n for n in accessories if n != x]) for x in accessories]
    )
    probabilities = classifier.predict_proba(images)
    rows = []
    for name, image, (_, row) in zip(accessories, images, probabilities.iterrows(), strict=True):
        seen = [n for n in layers.accessories_for(base) if row[n] >= THRESHOLD]
        rows.append(
            {
                "without": name,
                "punk": png_data_url(zoom(composite(image[None])[0], 3)),
                "the CNN reads": ", ".join(seen) or "no accessories",
                "the CNN still sees the one taken off": row[name],
            }
        )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={
            "punk": st.column_config.ImageColumn("punk", width="small"),
            "the CNN still sees the one taken off": st.column_config.ProgressColumn(
                min_value=0.0, max_value=1.0, format="percent"
            ),
        },
        key="builder_one_off",
    )
