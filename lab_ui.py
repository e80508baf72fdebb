"""Streamlit helpers shared by the pages: cached data, guard clauses and pixel-exact drawing.

The library (`punks_core`) knows nothing of Streamlit; this module is the only glue.
"""

import base64
import gc
import io
import os

# Before anything imports TensorFlow (lazily, in the loaders below): on a machine without a
# GPU it logs a "failed call to cuInit" error and start-up chatter that alarm people; real
# failures still raise in Python.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image
from streamlit.errors import StreamlitSecretNotFoundError

from punks_core.dataset import Punks, load_punks, rarity
from punks_core.errors import DatasetError, PunksError
from punks_core.imaging import composite, grid, zoom
from punks_core.labels import ACCESSORIES

ROOT = Path(__file__).resolve().parent
APP_NAME = "Punk Lab"
APP_ICON = "🟦"


@dataclass(frozen=True)
class LabPage:
    """One page of the lab: the one title and icon used in the sidebar, its card and its tab."""

    file: str
    title: str
    icon: str
    blurb: str
    section: str
    url: str

    def exists(self) -> bool:
        return (ROOT / self.file).exists()


HOME = LabPage("pages/0_Home.py", "Home", APP_ICON, "", "", "")
LAB_PAGES = (
    LabPage("pages/1_Dataset_Explorer.py", "Dataset Explorer", "🔎",
            "Filter the 10,000 punks by type and accessories, sort by rarity, open one, "
            "export a CSV.", "Data", "Dataset_Explorer"),
    LabPage("pages/2_Class_Balance.py", "Class Balance & Baselines", "⚖️",
            "Why a model that learns nothing scores 96 % per label — and what a real one must "
            "beat.", "Data", "Class_Balance"),
    LabPage("pages/3_Live_Classifier.py", "Live Classifier", "🧠",
            "Upload a punk and see a CNN name its type and accessories, and which pixels it "
            "used.", "Models", "Live_Classifier"),
    LabPage("pages/4_GAN_Gallery.py", "GAN Gallery", "🎨",
            "Slide through a GAN's training epoch by epoch and generate new punks.",
            "Models", "GAN_Gallery"),
    LabPage("pages/6_Sweeps.py", "Hyperparameter Sweeps", "📈",
            "What an optuna search over learning rate, batch size, filters and dropout found.",
            "Models", "Sweeps"),
    LabPage("pages/8_Training_Studio.py", "Training Studio", "🏋️",
            "Build an FNN or a CNN, train it on punks live, and compare it with the shipped one.",
            "Models", "Training_Studio"),
    LabPage("pages/5_Convolution_Lab.py", "Convolution Lab", "🧮",
            "Hand-made 3x3 filters on punks and any image, with the arithmetic of every pixel.",
            "Lab", "Convolution_Lab"),
    LabPage("pages/7_Punk_Builder.py", "Punk Builder", "🧱",
            "Paint a punk from its layers — base and accessories — and watch the CNN read it.",
            "Lab", "Punk_Builder"),
)  # fmt: skip


_navigation_built = False


def navigation():
    """The app's `st.navigation`: Home first, then the present pages by section."""
    global _navigation_built
    sections: dict[str, list] = {
        "": [st.Page(HOME.file, title=HOME.title, icon="🏠", default=True)]
    }
    for page in lab_pages():
        sections.setdefault(page.section, []).append(
            st.Page(page.file, title=page.title, icon=page.icon, url_path=page.url)
        )
    pages = st.navigation(sections)
    _navigation_built = True
    return pages


def _old_multipage_mode() -> bool:
    # Streamlit keeps this flag (pinned version, see requirements.lock) until a script calls
    # st.navigation; AppTest runs of a single page file never set it.
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:
        return False
    return bool(getattr(PagesManager, "uses_pages_directory", False))


@st.cache_resource(show_spinner=False)
def warm_up_models() -> None:
    """Load TensorFlow, the classifier and the generator once per server, in the background.

    TensorFlow alone takes seconds to import on a small CPU: started when the first visitor
    opens any page, it is ready by the time they reach a page that needs a model. The loaders
    are the cached ones the pages use, so nothing loads twice; a missing model is no error
    here (its page says what to do). PUNKLAB_WARM_UP=0 turns it off (the AppTests do).
    """
    import contextlib
    import threading

    if os.environ.get("PUNKLAB_WARM_UP", "1") == "0":
        return

    def load() -> None:
        for loader in (cached_classifier, cached_generator):
            # Any failure: the page that needs the model reports it in words.
            with contextlib.suppress(Exception):
                loader()

    threading.Thread(target=load, name="punklab-warm-up", daemon=True).start()


def lab_pages() -> list[LabPage]:
    """The pages of `LAB_PAGES` whose file is present, in reading order."""
    return [page for page in LAB_PAGES if page.exists()]


def page_header(script: str) -> LabPage:
    """Tab title, layout and the page's one `st.title`, all from `LAB_PAGES`.

    Args:
        script: the page's `__file__`.
    """
    if not _navigation_built and _old_multipage_mode():
        # Streamlit runs a `pages/` file on its own (its old multipage mode, "app" first in
        # the sidebar) for sessions that open a page's URL before any session of this server
        # has run app.py. Declaring the navigation once switches the server to it for good;
        # the rerun then draws this page inside it.
        navigation()
        st.rerun()
    name = Path(script).name
    page = next((p for p in (HOME, *LAB_PAGES) if Path(p.file).name == name), None)
    if page is None:
        raise ValueError(f"{name} is not registered in lab_ui.LAB_PAGES.")
    tab = APP_NAME if page is HOME else f"{page.title} · {APP_NAME}"
    st.set_page_config(page_title=tab, page_icon=page.icon, layout="wide")
    st.title(f"{page.icon} {APP_NAME if page is HOME else page.title}")
    return page


OPENSEA_KEY_NAME = "OPENSEA_API_KEY"
OPENSEA_PUNK_URL = (
    "https://opensea.io/assets/ethereum/0xb47e3cd837dDF8e4c57F05d70Ab865de6e193BBB/{}"
)

# Browsers smooth enlarged images; punks must stay crisp squares.
PIXELATED_CSS = "<style>img { image-rendering: pixelated; }</style>"


def freeze_heap(loaded):
    """Take everything loaded so far out of the garbage collector's full passes; return `loaded`.

    After every rerun Streamlit runs two full collections (`runner.postScriptGC`, and
    `keras.backend.clear_session()` once Keras is imported). With TensorFlow and the models in
    memory (about 310,000 objects) each took ~150 ms of CPU here: ~300 ms on every rerun of
    every page, more than most pages' own work. Frozen objects are skipped (both under 1 ms);
    they are the long-lived ones anyway (cached datasets, models, modules).
    """
    gc.collect()
    gc.freeze()
    return loaded


@st.cache_resource(show_spinner="Loading the 10,000 punks…")
def _load_shipped_punks() -> Punks:
    # A resource, not data: the arrays are read-only, so every session can share one copy
    # instead of unpickling 23 MB on each rerun.
    return freeze_heap(load_punks())


@st.cache_resource(show_spinner="Loading the punk layers…")
def _load_shipped_layers():
    from punks_core.layers import load_layers

    return load_layers()


def layers_or_stop():
    """The shipped punk layers (sprites), or a clear error and the end of the page."""
    try:
        return _load_shipped_layers()
    except DatasetError as error:
        st.error(f"The punk layers cannot be loaded: {error}")
        st.stop()


def layer_notes(layers, base: str, accessories: list[str]) -> dict[str, str]:
    """Each accessory's note: "visible", or "hidden under <the layers that cover it>"."""
    hidden = set(layers.hidden_labels(base, accessories))
    return {
        name: (
            "hidden under "
            + (", ".join(layers.covered_by(base, accessories, name)) or "a higher layer")
            if name in hidden
            else "visible"
        )
        for name in accessories
    }


def show_layer_stack(layers, base: str, accessories: list[str], scale: int = 4) -> None:
    """The punk painted layer by layer, bottom first, each step at exact zoom and captioned."""
    from punks_core.layer_order import in_paint_order

    names = in_paint_order(accessories)
    notes = layer_notes(layers, base, names)
    steps = layers.layer_images(base, names)
    captions = [f"{base}<br>base", *(f"+ {n}<br><i>{notes[n]}</i>" for n in names)]
    cells = "".join(
        f'<figure style="margin:0 10px 6px 0;max-width:{24 * scale + 40}px">'
        f"{exact_img(composite(step[None])[0], scale, caption)}"
        f'<figcaption style="font-size:0.8rem;line-height:1.2">{caption}</figcaption></figure>'
        for step, caption in zip(steps, captions, strict=True)
    )
    st.html(f'<div class="layer-stack" style="display:flex;flex-wrap:wrap">{cells}</div>')


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


def png_data_url(picture: np.ndarray) -> str:
    """An RGB(A) uint8 array as a `data:` URL, for pictures drawn with HTML."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(picture)).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def exact_img(picture: np.ndarray, scale: int, alt: str) -> str:
    """An <img> drawing each pixel of `picture` as exactly `scale` x `scale` CSS pixels.

    `st.image` shrinks a picture wider than its column, so zoom levels above the column's
    width would all look the same and pixels come out uneven; this never rescales.
    """
    height, width = picture.shape[:2]
    return (
        f'<img src="{png_data_url(picture)}" alt="{alt}" width="{width * scale}" '
        f'height="{height * scale}" data-scale="{scale}" style="image-rendering: pixelated; '
        'max-width: none; display: block">'
    )


def show_punk_grid(
    images: np.ndarray, columns: int, scale: int, background: str | None, alt: str = "punks"
) -> None:
    """All `images` as one picture, `scale` CSS pixels per punk pixel, scrolled if too wide."""
    picture = grid(images, columns, background=background, gap=1)
    st.html(
        f'<div class="punk-grid" style="overflow-x: auto">{exact_img(picture, scale, alt)}</div>'
    )


def show_labelled_rows(rows: list[tuple[str, np.ndarray]], scale: int, background: str) -> None:
    """One row of punks per label, the label on its left: e.g. a GAN grid, a row per type."""
    label_style = "align-self: center; font-weight: 600; padding-right: 0.75rem"
    cells = "".join(
        f'<div style="{label_style}">{label}</div><div>'
        + exact_img(grid(images, len(images), background=background, gap=1), scale, label)
        + "</div>"
        for label, images in rows
    )
    st.html(
        '<div class="punk-rows" style="overflow-x: auto; display: grid; '
        f'grid-template-columns: max-content max-content; row-gap: 4px">{cells}</div>'
    )


def show_punk(image: np.ndarray, scale: int = 10, background: str | None = "#638596") -> None:
    show_pixelated(zoom(composite(image[None], background)[0], scale))


def plain_numbers(figure, *axes: str):
    """No SI prefixes ("1μ", "10f") on a Plotly figure's axes and colour bar: learners read
    plain numbers or powers of ten."""
    for axis in axes or ("xaxis", "yaxis"):
        figure.update_layout({axis: {"exponentformat": "power"}})
    figure.update_coloraxes(colorbar_exponentformat="power")
    return figure


@st.cache_resource(show_spinner="Loading the classifier (TensorFlow starts once)…")
def cached_classifier(kind: str = "cnn"):
    """The shipped classifier of `kind`, loaded once per server and shared by every page."""
    from punks_core.classifier import load_classifier  # imports TensorFlow: only when asked

    return freeze_heap(load_classifier(kind=kind))


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

    return freeze_heap(load_generator())


@st.cache_resource(show_spinner="Indexing the 10,000 punks for neighbour search…")
def real_punks_index(_punks: Punks):
    """The shipped punks indexed for nearest-neighbour search, built once per server."""
    from punks_core.gan_quality import RealPunks

    return RealPunks(_punks.images)
