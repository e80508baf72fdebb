"""Streamlit helpers shared by the pages: cached data, guard clauses and pixel-exact drawing.

The library (`punks_core`) knows nothing of Streamlit; this module is the only glue.
"""

import os

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from punks_core.dataset import Punks, load_punks, rarity
from punks_core.errors import DatasetError, PunksError
from punks_core.imaging import composite, grid, zoom
from punks_core.labels import ACCESSORIES

OPENSEA_KEY_NAME = "OPENSEA_API_KEY"
OPENSEA_PUNK_URL = (
    "https://opensea.io/assets/ethereum/0xb47e3cd837dDF8e4c57F05d70Ab865de6e193BBB/{}"
)

# Browsers smooth enlarged images; punks must stay crisp squares.
PIXELATED_CSS = "<style>img { image-rendering: pixelated; }</style>"


@st.cache_resource(show_spinner="Loading the 10,000 punks…")
def _load_shipped_punks() -> Punks:
    # A resource, not data: the arrays are read-only, so every session can share one copy
    # instead of unpickling 23 MB on each rerun.
    return load_punks()


def punks_or_stop() -> Punks:
    """The shipped dataset, or a clear error and the end of the page."""
    try:
        return _load_shipped_punks()
    except DatasetError as error:
        st.error(f"The dataset cannot be loaded: {error}")
        st.stop()


@st.cache_resource
def punk_table(_punks: Punks) -> pd.DataFrame:
    """One row per punk: type, accessories, their count and rarity (rank 1 = rarest)."""
    accessories = _punks.labels[list(ACCESSORIES)].to_numpy().astype(bool)
    names = np.array(ACCESSORIES)
    ranks = rarity(_punks)
    return pd.DataFrame(
        {
            "type": _punks.types,
            "accessories": [", ".join(names[row]) for row in accessories],
            "count": _punks.accessory_count,
            "rarity rank": ranks["rank"],
            "rarity score": ranks["score"].round(1),
        },
        index=_punks.labels.index,
    )


def show_pixelated(image: np.ndarray, width: int | str = "content", caption: str | None = None):
    """Draw an image with crisp square pixels at any width."""
    st.markdown(PIXELATED_CSS, unsafe_allow_html=True)
    st.image(image, width=width, caption=caption)


def show_punk_grid(images: np.ndarray, columns: int, scale: int, background: str | None) -> None:
    """All `images` as one pixel-perfect picture, `scale` screen pixels per punk pixel."""
    picture = grid(images, columns, background=background, gap=1)
    show_pixelated(picture, width=picture.shape[1] * scale)


def show_punk(image: np.ndarray, scale: int = 10, background: str | None = "#638596") -> None:
    show_pixelated(zoom(composite(image[None], background)[0], scale))


@st.cache_resource(show_spinner="Loading the classifier (TensorFlow starts once)…")
def cached_classifier(kind: str = "cnn"):
    """The shipped classifier of `kind`, loaded once per server and shared by every page."""
    from punks_core.classifier import load_classifier  # imports TensorFlow: only when asked

    return load_classifier(kind=kind)


def classifier_or_stop(kind: str = "cnn"):
    """The shipped classifier of `kind`, or the reason it is missing and the end of the page."""
    try:
        return cached_classifier(kind)
    except PunksError as error:
        st.error(f"The {kind.upper()} classifier is not available: {error}")
        st.stop()


def read_upload_or_stop(upload, reader):
    """Decode an uploaded file with `reader` (bytes -> array), in memory only, or stop."""
    try:
        return reader(upload.getvalue())
    except PunksError as error:
        st.error(f"**{upload.name}**: {error}")
        st.stop()


def opensea_api_key() -> str | None:
    """The OpenSea key from `st.secrets` or the environment; no secrets file is no error."""
    try:
        key = st.secrets.get(OPENSEA_KEY_NAME)
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        key = None
    return key or os.environ.get(OPENSEA_KEY_NAME) or None


@st.cache_data(ttl=600, show_spinner="Asking OpenSea…")
def opensea_summary(_api_key: str, identifier: int) -> dict:
    # `_api_key` is left out of the cache key: the key must never be stored or hashed around.
    from punks_core.opensea import OpenSeaClient, nft_summary

    base_url = os.environ.get("OPENSEA_BASE_URL", "https://api.opensea.io")
    # A page must not hang on OpenSea: a short timeout and few retries, unlike the fetch CLI.
    client = OpenSeaClient(_api_key, base_url=base_url, timeout=5, max_retries=2)
    return nft_summary(client, identifier)


def show_opensea(identifier: int) -> None:
    """The punk's live OpenSea data, or one line on how to get it; errors as a message."""
    api_key = opensea_api_key()
    if api_key is None:
        st.caption(
            f"Add an OpenSea API key as `{OPENSEA_KEY_NAME}` in `.streamlit/secrets.toml` or "
            "the environment to see this punk's live OpenSea data."
        )
        return
    try:
        summary = opensea_summary(api_key, identifier)
    except PunksError as error:
        st.warning(f"OpenSea: {error}")
        return
    if summary["image_url"]:
        st.image(summary["image_url"], width=120)
    st.markdown(f"**{summary['name'] or f'CryptoPunk #{identifier}'}**")
    listing, sale = summary["best_listing"] or "none known", summary["last_sale"] or "none known"
    st.markdown(
        f"Owner: {summary['owner'] or 'unknown'} · best listing: {listing} · last sale: {sale}"
    )
    st.caption(" · ".join(summary["traits"]) or "no traits listed")
    for warning in summary["warnings"]:
        st.caption(f"⚠️ {warning}")


@st.cache_resource(show_spinner="Reading the GAN's training record…")
def cached_snapshots(folder: str | None = None):
    from punks_core.gan_snapshots import Snapshots

    return Snapshots(folder)


def snapshots_or_stop():
    """The shipped GAN snapshots, or what is wrong and how to rebuild them, and the end."""
    try:
        return cached_snapshots()
    except PunksError as error:
        st.info(f"The GAN gallery has nothing to show yet: {error}")
        st.stop()


@st.cache_resource(show_spinner="Loading the generator (TensorFlow starts once)…")
def cached_generator():
    from punks_core.gan import load_generator  # imports TensorFlow: only when asked

    return load_generator()


@st.cache_resource(show_spinner="Indexing the 10,000 punks for neighbour search…")
def real_punks_index(_punks: Punks):
    """The shipped punks indexed for nearest-neighbour search, built once per server."""
    from punks_core.gan_quality import RealPunks

    return RealPunks(_punks.images)
