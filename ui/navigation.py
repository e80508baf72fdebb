"""The page registry and the app's navigation: one title, icon and section per page.

`LAB_PAGES` gives each page its title, icon, section, blurb and URL; the sidebar, the home
cards, the page title and the browser tab all read it, so they cannot disagree.
"""

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
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
        raise ValueError(f"{name} is not registered in ui.navigation.LAB_PAGES.")
    tab = APP_NAME if page is HOME else f"{page.title} · {APP_NAME}"
    st.set_page_config(page_title=tab, page_icon=page.icon, layout="wide")
    st.title(f"{page.icon} {APP_NAME if page is HOME else page.title}")
    return page
