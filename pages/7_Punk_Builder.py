"""Punk Builder: paint a punk from its layers and watch the CNN read it, one layer off at a time."""

import streamlit as st

from punks_core.imaging import composite
from ui.layers import show_layer_stack
from ui.loaders import classifier_or_stop, layers_or_stop, punks_or_stop
from ui.navigation import page_header
from ui.pixels import exact_img, png_bytes
from ui.punk_builder import (
    layer_picker,
    open_in_convolution_lab,
    painted_punk_or_last_good,
    show_one_layer_off,
    show_verdicts,
    start_with_the_first_punk,
)

SCALE = 12

page_header(__file__)
layers = layers_or_stop()
punks = punks_or_stop()
start_with_the_first_punk()
base, accessories = layer_picker(layers, punks)
base, accessories, image = painted_punk_or_last_good(layers, base, accessories)
classifier = classifier_or_stop()
probabilities = classifier.predict_proba(image).iloc[0]

picture, verdict = st.columns([1, 2])
with picture:
    st.html(exact_img(composite(image[None])[0], SCALE, f"{base} punk"))
    st.caption(f"{base}" + (f" with {', '.join(accessories)}" if accessories else ""))
    st.download_button(
        "Download PNG (24x24)", png_bytes(image), "punk.png", "image/png", key="builder_png"
    )
    if st.button("Open in the Convolution Lab", key="builder_to_conv"):
        open_in_convolution_lab(image)
with verdict:
    types = probabilities[["Alien", "Ape", "Zombie", "Female", "Male"]]
    st.markdown(f"**The CNN reads a {types.idxmax()}** ({types.max():.0%} sure).")
    show_verdicts(layers, base, accessories, probabilities)

st.subheader("Take one layer off")
st.caption("Each row is this punk without one accessory, read again by the CNN.")
show_one_layer_off(layers, base, accessories, classifier)

st.subheader("The layers, bottom to top")
show_layer_stack(layers, base, accessories)
