"""Punk Lab home: what the lab is, the dataset at a glance, and a card for every page."""

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from lab_ui import punks_or_stop, show_punk_grid
from punks_core.labels import ACCESSORIES, TYPES

PAGES = [
    ("pages/1_Dataset_Explorer.py", "🔎", "Dataset Explorer",
     "Filter the 10,000 punks by type and accessories, sort by rarity, open one, export a CSV."),
    ("pages/2_Class_Balance.py", "⚖️", "Class Balance & Baselines",
     "Why a model that learns nothing scores 96 % per label — and what a real one must beat."),
    ("pages/3_Live_Classifier.py", "🧠", "Live Classifier",
     "Upload a punk and see a CNN name its type and accessories, and which pixels it used."),
    ("pages/4_GAN_Gallery.py", "🎨", "GAN Gallery",
     "Slide through a GAN's training epoch by epoch and generate new punks."),
    ("pages/5_Convolution_Lab.py", "🧮", "Convolution Lab",
     "Hand-made 3x3 filters on punks and any image, with the arithmetic of every pixel."),
    ("pages/6_Sweeps.py", "📈", "Hyperparameter Sweeps",
     "What an optuna search over learning rate, batch size, filters and dropout found."),
]  # fmt: skip


@st.cache_data
def colour_count() -> int:
    """Distinct RGBA colours over all punks (one uint32 per pixel, hashed)."""
    return len(pd.unique(np.ascontiguousarray(punks.images).view(np.uint32).ravel()))


st.set_page_config(page_title="Punk Lab", page_icon="🟦", layout="wide")
punks = punks_or_stop()

st.title("🟦 Punk Lab")
st.markdown(
    "A hands-on lab for deep learning on the **10,000 CryptoPunks**: real data, models that run "
    "on a laptop CPU, nothing downloaded. Browse the dataset, see why a naive model looks "
    "accurate, classify a punk, watch a GAN learn, and play with convolution filters."
)
count, types, accessories, colours = st.columns(4)
count.metric("Punks", f"{len(punks.labels):,}")
types.metric("Types", len(TYPES))
accessories.metric("Accessories", len(ACCESSORIES))
colours.metric("Colours", colour_count())
show_punk_grid(punks.images[:100], columns=25, scale=2, background="#638596")
st.caption("Punks #0–#99, each 24x24 pixels.")

st.header("The lab")
left, right = st.columns(2)
ready = [page for page in PAGES if (Path(__file__).parent / page[0]).exists()]
for k, (path, icon, title, blurb) in enumerate(ready):
    with (left if k % 2 == 0 else right).container(border=True):
        st.page_link(path, label=f"**{title}**", icon=icon)
        st.caption(blurb)
