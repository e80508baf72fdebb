"""The Convolution Lab's kernel editor: nine text boxes in a 3x3 grid, a preset box that names
the kernel it holds, Normalise, and a kernel handed over in the URL (`?kernel=`).

A number column would turn `1/9` into 19 and `abc` into NaN before the page saw it: text boxes
reach `parse_kernel` as typed, and a bad cell keeps the last good kernel (`conv_good_kernel`)
with the library's message. Plain text boxes rather than `st.data_editor`: a new browser tab
starts the data grid's scripts before it can draw the page (docs/BENCHMARKS.md), and a box is
what a learner expects to type a number into.
"""

import numpy as np
import streamlit as st

from punks_core.errors import KernelError
from punks_core.kernels import PRESETS, normalise, parse_kernel

FIRST_PRESET = "Horizontal lines (Keras intro)"
CUSTOM = "Custom"
state = st.session_state


def start_with_the_first_preset() -> None:
    state.setdefault("conv_good_kernel", PRESETS[FIRST_PRESET])
    state.setdefault("conv_editor_base", PRESETS[FIRST_PRESET])
    state.setdefault("conv_editor_version", 0)


def use_kernel(kernel: np.ndarray) -> None:
    # A fresh editor key drops the old editor's cell edits, which would otherwise be replayed
    # on top of the new kernel.
    state.conv_good_kernel = state.conv_editor_base = kernel
    state.conv_editor_version += 1


def choose_preset(widget_key: str) -> None:
    if state[widget_key] != CUSTOM:  # "Custom" names the kernel in the editor: keep it
        use_kernel(PRESETS[state[widget_key]])


def preset_name(kernel: np.ndarray) -> str:
    """The preset `kernel` equals, or "Custom" after an edit or Normalise."""
    return next((name for name, k in PRESETS.items() if np.array_equal(k, kernel)), CUSTOM)


def cell_text(weight: float) -> str:
    # What a person would type: 1, -1, 0.25, 0.111111 (never 1.0 or 1e+00).
    return "0" if weight == 0 else f"{weight:.6g}"


def cell_key(row: int, col: int) -> str:
    """The session-state key of a kernel cell's text box (rows and columns from 0)."""
    return f"conv_cell_{state.conv_editor_version}_{row}{col}"


def kernel_from_url() -> None:
    """`?kernel=` nine comma-separated weights, row by row: the Training Studio links a filter
    it learned this way. Read once per new link, so the editor stays free afterwards."""
    text = st.query_params.get("kernel")
    if text is None or text == state.get("conv_url_kernel"):
        return
    state.conv_url_kernel = text
    cells = text.split(",")
    try:
        use_kernel(parse_kernel([cells[0:3], cells[3:6], cells[6:9]] if len(cells) == 9 else cells))
    except KernelError as error:
        st.warning(f"The kernel in the link cannot be used: {error}")


def kernel_editor() -> np.ndarray:
    """The preset box, the editor and Normalise; returns the last good kernel."""
    preset_box = st.container()  # filled after the editor: it names what the editor holds
    base = state.conv_editor_base
    cells = st.container(key="conv_cells")
    table = [["" for _ in range(3)] for _ in range(3)]
    for row, columns in enumerate(cells.columns(3, gap="small") for _ in range(3)):
        for col, column in enumerate(columns):
            table[row][col] = column.text_input(
                f"Row {row + 1}, column {col + 1}", cell_text(base[row, col]),
                key=cell_key(row, col), label_visibility="collapsed",
            )  # fmt: skip
    try:
        state.conv_good_kernel = parse_kernel(table)
    except KernelError as error:
        st.error(f"{error} Still using the last good kernel.")
    kernel = state.conv_good_kernel
    # The box is keyed by what it shows, so after an edit it is a new widget: a value the
    # browser sends for the old box (under load, a stale echo of the old preset arriving
    # after the edit) is dropped instead of restoring that preset over the edit.
    choices = [CUSTOM, *PRESETS]
    shown = choices.index(preset_name(kernel))
    preset_key = f"conv_preset_{shown}"
    preset_box.selectbox(
        "Preset", choices, index=shown, key=preset_key, on_change=choose_preset,
        args=(preset_key,),
        help="Pick a classic filter, or type your own weights in the boxes below (Enter to "
        "apply): numbers such as 2, -0.5, .25, 1e-1 or fractions such as 1/9.",
    )  # fmt: skip
    st.button(
        "Normalise", key="conv_normalise", on_click=lambda: use_kernel(normalise(kernel)),
        help="Divide by the sum of the weights, or by the sum of their sizes if that is 0.",
    )  # fmt: skip
    return kernel
