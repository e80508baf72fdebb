"""Punk Lab home: what the lab is, the dataset at a glance, and a card for every page."""

import streamlit as st

from punks_core.constants import BACKGROUND_HEX
from punks_core.labels import ACCESSORIES, TYPES
from ui.loaders import punks_or_stop, shipped_colour_count
from ui.navigation import lab_pages, page_header
from ui.pixels import show_punk_grid

page_header(__file__)
punks = punks_or_stop()
st.markdown(
    "A hands-on lab for deep learning on the **10,000 CryptoPunks**: real data, models that run "
    "on a laptop CPU, nothing downloaded. Browse the dataset, see why a naive model looks "
    "accurate, classify a punk, watch a GAN learn, and play with convolution filters."
)
count, types, accessories, colours = st.columns(4)
count.metric("Punks", f"{len(punks.labels):,}")
types.metric("Types", len(TYPES))
accessories.metric("Accessories", len(ACCESSORIES))
colours.metric("Colours", shipped_colour_count())
# 15 a row at 2x fits a laptop's column without rescaling (the grid never shrinks its pixels).
show_punk_grid(punks.images[:60], columns=15, scale=2, background=BACKGROUND_HEX, alt="Punks 0-59")
st.caption("Punks #0–#59, each 24x24 pixels, drawn at 2x.")

st.header("The lab")
pages = lab_pages()
for section in dict.fromkeys(page.section for page in pages):
    st.subheader(section)
    cards = [page for page in pages if page.section == section]
    # One st.columns per row of two: on a phone the columns stack, and the cards still come in
    # reading order (filling two columns alternately would read 1, 3, 5, 2, 4, 6 there).
    for pair in range(0, len(cards), 2):
        for column, page in zip(st.columns(2), cards[pair : pair + 2], strict=False):
            with column.container(border=True):
                st.page_link(page.file, label=f"**{page.title}**", icon=page.icon)
                st.caption(page.blurb)
