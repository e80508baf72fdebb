"""Punk Lab's entry point (`streamlit run app.py`): the navigation, Home first, pages by section.

Every page's title, icon and section come from `ui.navigation.LAB_PAGES`, so the sidebar, the
home cards, the page titles and the browser tabs all say the same thing.
"""

import streamlit as st

from ui.loaders import warm_up_models  # importing `ui` first quiets TensorFlow's logs
from ui.navigation import APP_ICON, APP_NAME, navigation

st.set_page_config(page_title=APP_NAME, page_icon=APP_ICON, layout="wide")
page = navigation()
page.run()
warm_up_models()  # after the page: the first page a visitor opens is drawn before it starts
