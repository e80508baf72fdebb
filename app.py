"""Punk Lab's entry point (`streamlit run app.py`): the navigation, Home first, pages by section.

Every page's title, icon and section come from `lab_ui.LAB_PAGES`, so the sidebar, the home
cards, the page titles and the browser tabs all say the same thing.
"""

import streamlit as st

from lab_ui import APP_ICON, APP_NAME, navigation  # also quiets TensorFlow's start-up logs

st.set_page_config(page_title=APP_NAME, page_icon=APP_ICON, layout="wide")
navigation().run()
