"""Dataset Explorer: filter, sort and browse the 10,000 punks; open one; export the selection."""

import plotly.express as px
import streamlit as st

from lab_ui import (
    OPENSEA_PUNK_URL,
    punk_table,
    punks_or_stop,
    show_opensea,
    show_punk,
    show_punk_grid,
)
from punks_core.baselines import cooccurrence
from punks_core.dataset import BACKGROUND_HEX, N_PUNKS, PunkFilter, filter_mask
from punks_core.labels import ACCESSORIES, TYPES

BACKGROUNDS = {"Punk blue": BACKGROUND_HEX, "White": "#ffffff", "Transparent": None}
SORTS = {
    "Id": ("id", True),
    "Rarest first": ("rarity rank", True),
    "Commonest first": ("rarity rank", False),
}

st.set_page_config(page_title="Dataset Explorer · Punk Lab", page_icon="🔎", layout="wide")
punks = punks_or_stop()
table = punk_table(punks)

with st.sidebar:
    st.header("Filter")
    query = PunkFilter(
        types=tuple(st.multiselect("Type", TYPES, key="explorer_types")),
        all_of=tuple(st.multiselect("Wearing all of", ACCESSORIES, key="explorer_all_of")),
        any_of=tuple(st.multiselect("Wearing any of", ACCESSORIES, key="explorer_any_of")),
        none_of=tuple(st.multiselect("Wearing none of", ACCESSORIES, key="explorer_none_of")),
        accessory_count=st.slider("Number of accessories", 0, 7, (0, 7), key="explorer_count"),
        ids=st.slider("Id range", 0, N_PUNKS - 1, (0, N_PUNKS - 1), key="explorer_ids"),
    )
    sort_by = st.selectbox("Sort by", list(SORTS), key="explorer_sort")
    page_size = st.select_slider("Punks per page", [100, 250, 500, 1000], 250, key="explorer_size")
    scale = st.slider("Zoom", 1, 8, 2, key="explorer_zoom")
    background = st.selectbox("Background", list(BACKGROUNDS), key="explorer_background")

st.title("🔎 Dataset Explorer")
matches = table[filter_mask(punks, query)]
column, ascending = SORTS[sort_by]
matches = (
    matches.sort_index() if column == "id" else matches.sort_values(column, ascending=ascending)
)
if matches.empty:
    st.info("No punk matches these filters. Remove a filter in the sidebar to see more punks.")
    st.stop()

pages = -(-len(matches) // page_size)
st.caption(f"**{len(matches):,}** of {len(table):,} punks match · {pages} page(s)")
page = st.number_input("Page", 1, pages, 1, key="explorer_page") if pages > 1 else 1
shown = matches.iloc[(page - 1) * page_size : page * page_size]
grid_tab, table_tab, heatmap_tab = st.tabs(["Grid", "Table", "Accessory co-occurrence"])
with grid_tab:
    show_punk_grid(punks.images[shown.index], 25, scale, BACKGROUNDS[background])
    st.caption(
        f"Punks #{shown.index[0]} … #{shown.index[-1]} in {sort_by.lower()} order, 25 a row."
    )
with table_tab:
    st.dataframe(shown, key="explorer_table", width="stretch")
    st.download_button(
        "Download all matches as CSV",
        lambda: matches.to_csv(index_label="id"),  # built only when clicked
        file_name="punks.csv",
        mime="text/csv",
        key="explorer_csv",
    )
with heatmap_tab:
    together = cooccurrence(punks.labels.loc[matches.index])
    figure = px.imshow(together, color_continuous_scale="Viridis", aspect="equal")
    figure.update_layout(height=800, title="Punks wearing both accessories (diagonal: each alone)")
    st.plotly_chart(figure, key="explorer_heatmap")

st.header("One punk")
pick, goto = st.columns(2)
picked = pick.selectbox(
    "A punk of this page", shown.index, format_func=lambda i: f"#{i}", key="explorer_detail"
)
typed = goto.number_input("…or any id", 0, N_PUNKS - 1, None, key="explorer_goto")
punk_id = int(picked if typed is None else typed)
punk = table.loc[punk_id]
left, right = st.columns([1, 2])
with left:
    show_punk(punks.images[punks.row(punk_id)], scale=12, background=BACKGROUNDS[background])
with right:
    st.subheader(f"CryptoPunk #{punk_id}: {punk['type']}")
    st.markdown(f"Rarity rank **{punk['rarity rank']:,}** of 10,000 (score {punk['rarity score']})")
    frequency = punks.labels.mean()
    attributes = [punk["type"], *filter(None, punk["accessories"].split(", "))]
    st.dataframe(
        {"attribute": attributes, "punks with it": [f"{frequency[a]:.2%}" for a in attributes]},
        key="explorer_detail_attributes",
    )
    st.link_button("Open on OpenSea", OPENSEA_PUNK_URL.format(punk_id))
    if st.toggle("Live OpenSea data", key="explorer_opensea"):
        show_opensea(punk_id)
