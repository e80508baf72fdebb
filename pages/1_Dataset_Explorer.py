"""Dataset Explorer: filter, sort and browse the 10,000 punks; open one; export the selection."""

import streamlit as st

from ui.explorer import (
    browsing_sidebar,
    chosen_punk_id,
    matching_rows,
    show_matches,
    show_one_punk,
)
from ui.loaders import layers_or_stop, punks_or_stop, shipped_punk_table
from ui.navigation import page_header

page_header(__file__)
punks = punks_or_stop()
layers = layers_or_stop()
table = shipped_punk_table()
browsing = browsing_sidebar()
matches = matching_rows(table, punks, browsing)
if matches.empty:
    st.info("No punk matches these filters. Remove a filter in the sidebar to see more punks.")
else:
    shown = show_matches(punks, table, matches, browsing)
    st.header("One punk")
    show_one_punk(punks, layers, table, chosen_punk_id(shown), browsing.background)
