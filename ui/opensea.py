"""A punk's live OpenSea data on a page: the API key from secrets or the environment, a short
cached call that never hangs the page, and the summary or one line on what went wrong."""

import os

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from punks_core.constants import CRYPTOPUNKS_CONTRACT, OPENSEA_API_URL, OPENSEA_KEY_ENV
from punks_core.errors import PunksError

OPENSEA_KEY_NAME = OPENSEA_KEY_ENV
OPENSEA_PUNK_URL = f"https://opensea.io/assets/ethereum/{CRYPTOPUNKS_CONTRACT}/{{}}"


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
    from punks_core.opensea import OpenSeaClient
    from punks_core.opensea_summary import nft_summary

    base_url = os.environ.get("OPENSEA_BASE_URL", OPENSEA_API_URL)
    # A page must not hang on OpenSea: a short timeout, few retries and at most 10 s of waits
    # per call (a longer Retry-After fails at once, with a message), unlike the fetch CLI.
    # A wait is shown while it lasts, in a placeholder made here and emptied after, so that a
    # cache hit replays nothing stale.
    note = st.empty()
    client = OpenSeaClient(
        _api_key,
        base_url=base_url,
        timeout=5,
        max_retries=2,
        max_wait=10,
        on_wait=lambda message, seconds: note.info(message, icon="⏳"),
    )
    try:
        return nft_summary(client, identifier)
    finally:
        note.empty()


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
