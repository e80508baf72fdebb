"""The Dataset Explorer's parts: the sidebar's filters, the matches (grid, table, co-occurrence)
and one punk in detail with its layers."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from punks_core.baselines import cooccurrence
from punks_core.dataset import BACKGROUND_HEX, N_PUNKS, PunkFilter, Punks, filter_mask
from punks_core.labels import ACCESSORIES, TYPES
from ui.layers import layer_notes, show_layer_stack
from ui.opensea import OPENSEA_PUNK_URL, show_opensea
from ui.pixels import show_punk, show_punk_grid

BACKGROUNDS = {"Punk blue": BACKGROUND_HEX, "White": "#ffffff", "Transparent": None}
GRID_WIDTH = 940  # CSS pixels: the main column of a 1400-pixel-wide window beside the sidebar
SORTS = {
    "Id": ("id", True),
    "Rarest first": ("rarity rank", True),
    "Commonest first": ("rarity rank", False),
}


@dataclass(frozen=True)
class Browsing:
    """What the sidebar asks for: which punks, in what order, and how to draw them."""

    query: PunkFilter
    sort_by: str
    page_size: int
    scale: int
    background: str


def browsing_sidebar() -> Browsing:
    """The sidebar's filters, order, page size, zoom and background."""
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
        page_size = st.select_slider(
            "Punks per page", [100, 250, 500, 1000], 250, key="explorer_size"
        )
        scale = st.slider(
            "Zoom", 1, 8, 2, key="explorer_zoom", format="%dx",
            help="Each punk pixel is drawn as zoom x zoom screen pixels; scroll sideways when the "
            "grid is wider than the page.",
        )  # fmt: skip
        background = st.selectbox("Background", list(BACKGROUNDS), key="explorer_background")
    return Browsing(query, sort_by, page_size, scale, background)


def matching_rows(table: pd.DataFrame, punks: Punks, browsing: Browsing) -> pd.DataFrame:
    """The rows of `table` the filters let through, in the order asked for."""
    matches = table[filter_mask(punks, browsing.query)]
    column, ascending = SORTS[browsing.sort_by]
    if column == "id":
        return matches.sort_index()
    return matches.sort_values(column, ascending=ascending)


def cooccurrence_figure(together) -> go.Figure:
    """All 87 accessories labelled; the diagonal (each accessory alone) left out, since its
    counts are up to 100x the pairs' and would leave every pair the same dark colour."""
    counts = np.array(together, dtype=float)  # a copy: the diagonal is blanked below
    np.fill_diagonal(counts, np.nan)
    shown = np.where(counts > 0, np.log10(np.where(counts > 0, counts, 1)), np.nan)
    top = max(1, int(np.ceil(np.nanmax(shown)))) if np.isfinite(shown).any() else 1
    ticks = list(range(top + 1))
    names = list(together.columns)
    figure = go.Figure(
        go.Heatmap(
            z=shown, x=names, y=names, customdata=counts, zmin=0, zmax=top,
            colorscale="Viridis", hoverongaps=False,
            hovertemplate="%{y} + %{x}: %{customdata:,.0f} punks<extra></extra>",
            colorbar={"title": "punks", "tickvals": ticks,
                      "ticktext": [f"{10**t:,}" for t in ticks]},
        )
    )  # fmt: skip
    axis = {"tickmode": "array", "tickvals": names, "tickfont": {"size": 9}, "showgrid": False}
    figure.update_layout(
        height=1250, xaxis={**axis, "tickangle": -60, "side": "top"},
        yaxis={**axis, "autorange": "reversed", "scaleanchor": "x"},
        margin={"l": 10, "r": 10, "t": 150, "b": 10},
        title="Punks wearing both accessories",
    )  # fmt: skip
    return figure


def show_matches(
    punks: Punks, table: pd.DataFrame, matches: pd.DataFrame, browsing: Browsing
) -> pd.DataFrame:
    """One page of the matches as a grid, a table and a co-occurrence map; returns that page."""
    page_size, scale = browsing.page_size, browsing.scale
    pages = -(-len(matches) // page_size)
    st.caption(f"**{len(matches):,}** of {len(table):,} punks match · {pages} page(s)")
    page = st.number_input("Page", 1, pages, 1, key="explorer_page") if pages > 1 else 1
    shown = matches.iloc[(page - 1) * page_size : page * page_size]
    # Only the open tab is drawn (a rerun on switching): the 87x87 heat map in a hidden tab
    # cost every visit its Plotly drawing.
    grid_tab, table_tab, heatmap_tab = st.tabs(
        ["Grid", "Table", "Accessory co-occurrence"], key="explorer_view", on_change="rerun"
    )
    with grid_tab:
        # Exact zoom: fewer punks a row as the zoom grows, so a laptop's column holds a row.
        per_row = max(1, GRID_WIDTH // (25 * scale))
        show_punk_grid(
            punks.images[shown.index], per_row, scale, BACKGROUNDS[browsing.background],
            alt="the punks shown",
        )  # fmt: skip
        st.caption(
            f"Punks #{shown.index[0]} … #{shown.index[-1]} in {browsing.sort_by.lower()} order, "
            f"{per_row} a row; each punk pixel is {scale}x{scale} screen pixels."
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
    if heatmap_tab.open:
        heatmap_tab.plotly_chart(
            cooccurrence_figure(cooccurrence(punks.labels.loc[matches.index])),
            key="explorer_heatmap",
        )
        heatmap_tab.caption(
            "Off the diagonal: punks of this selection wearing both accessories, on a log "
            "colour scale (empty: never together). How many wear each one is on the Class "
            "Balance page."
        )
    return shown


def forget_typed_id() -> None:
    # Choosing a punk of the page is the newer wish: it must win over an id typed before.
    st.session_state.explorer_goto = None


def chosen_punk_id(shown: pd.DataFrame) -> int:
    """A punk of the page shown, or any id typed in: the one typed last wins."""
    pick, goto = st.columns(2)
    picked = pick.selectbox(
        "A punk of this page", shown.index, format_func=lambda i: f"#{i}", key="explorer_detail",
        on_change=forget_typed_id,
    )  # fmt: skip
    typed = goto.number_input(
        "…or any id", 0, N_PUNKS - 1, None, key="explorer_goto", placeholder="type an id, 0–9999"
    )
    return int(picked if typed is None else typed)


def show_one_punk(punks: Punks, layers, table: pd.DataFrame, punk_id: int, background: str):
    """The punk large, its rarity and attributes, OpenSea on request, and its layers."""
    punk = table.loc[punk_id]
    left, right = st.columns([1, 2])
    with left:
        show_punk(punks.images[punks.row(punk_id)], scale=12, background=BACKGROUNDS[background])
    with right:
        st.subheader(f"CryptoPunk #{punk_id}: {punk['type']}")
        st.markdown(
            f"Rarity rank **{punk['rarity rank']:,}** of 10,000 (score {punk['rarity score']})"
        )
        frequency = punks.labels.mean()
        attributes = [punk["type"], *filter(None, punk["accessories"].split(", "))]
        notes = layer_notes(layers, punks.bases[punk_id], attributes[1:])
        st.dataframe(
            {
                "attribute": attributes,
                "punks with it": [f"{frequency[a]:.2%}" for a in attributes],
                "on the punk": [f"base: {punks.bases[punk_id]}", *notes.values()],
            },
            key="explorer_detail_attributes",
        )
        st.link_button("Open on OpenSea", OPENSEA_PUNK_URL.format(punk_id))
        if st.toggle("Live OpenSea data", key="explorer_opensea"):
            show_opensea(punk_id)
    base, worn = punks.bases[punk_id], punks.accessory_lists[punks.row(punk_id)]
    st.markdown(
        f"**Its layers, bottom to top.** Every punk is a base (here {base}) with its accessories "
        "painted over it in one fixed order, so a later layer can cover an earlier one "
        "completely: such a label is *hidden*: in the data, but on no pixel."
    )
    show_layer_stack(layers, base, worn)
