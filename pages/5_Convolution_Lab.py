"""Convolution Lab: hand-made 3x3 filters on a punk or any picture, with the arithmetic shown."""

import random

import numpy as np
import streamlit as st

from lab_ui import cached_classifier, page_header, punks_or_stop, show_punk
from punks_core.dataset import N_PUNKS
from punks_core.errors import InvalidImageError, KernelError, PunksError
from punks_core.filters import (
    PADDINGS,
    PRESETS,
    STRIDES,
    WORKED_EXAMPLES,
    convolve,
    kernel_table,
    normalise,
    output_size,
    output_size_formula,
    parse_kernel,
    relu,
    shrink_for_display,
    to_grayscale,
    to_rgb,
    window_arithmetic,
)
from punks_core.heatmaps import (
    CHANNELS,
    picture_figure,
    signed_figure,
    symmetric_limit,
    tiles,
)
from punks_core.imaging import load_picture

FIRST_PRESET = "Horizontal lines (Keras intro)"
CUSTOM = "Custom"
PANEL_HEIGHT = 380
NO_SECOND = "No second layer"
FORMATS = ["png", "jpg", "jpeg", "webp", "gif", "bmp"]
PICKED_PIXEL = "The output pixel picked below"
TRAIN_HINT = "Build it with `python -m punks_core train-classifier`."
state = st.session_state


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


def kernel_text(kernel: np.ndarray):
    """The kernel as text cells: the editor then passes "1/9" or ".25" to `parse_kernel` as
    typed, where a number column would read "1/9" as 19."""
    return kernel_table(kernel).map(cell_text)


def random_punk() -> None:
    state.conv_punk_id = random.randrange(N_PUNKS)


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


@st.cache_resource(max_entries=4, show_spinner="Reading the picture…")
def upload_values(file_id: str, _data: bytes, colour: bool):
    """The upload as RGBA, as the floats the filter sees, and pooled for display."""
    # A resource, not data: read-only arrays shared as they are, since copying a 1024x1024x3
    # float image out of st.cache_data on every kernel edit would eat the rerun's budget.
    rgba = load_picture(_data, max_side=1024)
    values = to_rgb(rgba) if colour else to_grayscale(rgba)
    preview = shrink_for_display(values, keep="mean")
    for array in (rgba, values, preview[0]):
        array.setflags(write=False)
    return rgba, values, preview


page_header(__file__)
state.setdefault("conv_punk_id", 0)
state.setdefault("conv_good_kernel", PRESETS[FIRST_PRESET])
state.setdefault("conv_editor_base", PRESETS[FIRST_PRESET])
state.setdefault("conv_editor_version", 0)
kernel_from_url()
with st.sidebar:
    st.header("Image")
    sources = ["Punk", "Upload"] + (["Punk Builder"] if "builder_punk" in state else [])
    if state.pop("conv_from_builder", False):  # "Open in the Convolution Lab" on the Builder
        state.conv_source = "Punk Builder"
    source = st.radio("Source", sources, horizontal=True, key="conv_source")
    if source == "Punk":
        punk_id = st.number_input("Punk id", 0, N_PUNKS - 1, key="conv_punk_id")
        st.button("🎲 Random punk", on_click=random_punk, key="conv_random")
    elif source == "Upload":
        upload = st.file_uploader(
            "Any picture (large ones are shrunk to 1024 px)",
            type=FORMATS, key="conv_upload",
        )  # fmt: skip
    mode = st.radio("Channels", ["Grayscale", "Colour (R, G, B)"], key="conv_channels")
    colour = mode != "Grayscale"
    st.header("Layer")
    stride = st.radio("Stride", STRIDES, horizontal=True, key="conv_stride")
    padding = st.radio("Padding", PADDINGS, horizontal=True, key="conv_padding")
    second = st.selectbox("Second layer on the output", [NO_SECOND, *PRESETS], key="conv_second")
    relu_between = st.toggle("ReLU between the layers", True, key="conv_relu_between")

st.caption(
    "A Keras `Conv2D` with one hand-made 3x3 filter: cross-correlation, zero padding, stride. "
    "Unlike the usual grayscale demos, negative outputs stay visible (blue), colour channels "
    "are filtered one by one, and every output pixel's sum can be opened up below."
)
if source in ("Punk", "Punk Builder"):
    if source == "Punk":
        punks = punks_or_stop()
        rgba = punks.images[punks.row(punk_id)]
    else:
        rgba = state.builder_punk
    values = to_rgb(rgba) if colour else to_grayscale(rgba)
    preview = (values, 1)
    with st.sidebar:
        show_punk(rgba, scale=6)
elif upload is None:
    names = ", ".join(f.upper() for f in FORMATS if f != "jpg").replace("WEBP", "WebP")
    st.info(f"Upload a picture in the sidebar ({names}), or pick a punk.")
    st.stop()
else:
    try:
        rgba, values, preview = upload_values(upload.file_id, upload.getvalue(), colour)
    except InvalidImageError as error:
        st.error(f"This file cannot be used: {error}")
        st.stop()
height, width = values.shape[:2]
out_h, out_w = output_size(height, 3, stride, padding), output_size(width, 3, stride, padding)
if out_h <= 0 or out_w <= 0:
    st.info(f"A {height}x{width} picture is smaller than the 3x3 kernel: choose 'same' padding.")
    st.stop()

editor_column, size_column = st.columns([1, 2])
with editor_column:
    preset_box = st.container()  # filled after the editor: it names what the editor holds
    table = st.data_editor(
        kernel_text(state.conv_editor_base),
        key=f"conv_kernel_{state.conv_editor_version}",
        column_config={c: st.column_config.TextColumn(c, width="small") for c in "123"},
    )
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
        help="Pick a classic filter, or type your own weights in the table below: numbers "
        "such as 2, -0.5, .25, 1e-1 or fractions such as 1/9.",
    )  # fmt: skip
    st.button(
        "Normalise", key="conv_normalise", on_click=lambda: use_kernel(normalise(kernel)),
        help="Divide by the sum of the weights, or by the sum of their sizes if that is 0.",
    )  # fmt: skip
with size_column:
    st.markdown("**Output size**, per axis: n_out = ⌊(n_in + 2p − f) / s⌋ + 1")
    st.code(
        f"rows:    {output_size_formula(height, 3, stride, padding)}\n"
        f"columns: {output_size_formula(width, 3, stride, padding)}",
        language=None,
    )
    st.caption("Keras' 'same' pads to ⌈n / s⌉ outputs; an odd zero goes after, not before.")

# The last click on the output (its widget state, readable before the chart is drawn again)
# moves the pixel pickers once; they stay free to type in after that.
event = state.get("conv_output_chart") or {"selection": {"points": []}}
clicked = [(int(p["y"]), int(p["x"])) for p in event["selection"]["points"] if "x" in p]
if clicked and clicked[0] != state.get("conv_last_click"):
    state.conv_last_click = clicked[0]
    state.conv_row, state.conv_col = clicked[0]
state.conv_row = min(state.get("conv_row", out_h // 2), out_h - 1)
state.conv_col = min(state.get("conv_col", out_w // 2), out_w - 1)
picked = state.conv_row, state.conv_col
window = window_arithmetic(values[..., 0] if colour else values, kernel, *picked, stride, padding)

output = convolve(values, kernel, stride, padding)
limit = symmetric_limit(output)
# Every panel is one third of the page wide and PANEL_HEIGHT high, so input, output and ReLU
# are drawn at one size; in colour the output's R, G and B tiles take a row of thirds.
input_figure = picture_figure(preview, f"Input {height}x{width}", (window.top, window.left, 3))
output_title = f"Output {out_h}x{out_w}"
output_figure = signed_figure(output, output_title, limit, click=True, box=(*picked, 1))
relu_title = "ReLU(output)"
if colour:  # max pooling commutes with ReLU, so the big map is pooled first, then clipped
    pooled = shrink_for_display(output, keep="max")
    relu_figure = picture_figure(pooled, f"{relu_title} as a picture, clipped to [0, 1]")
else:
    relu_figure = signed_figure(relu(output), relu_title, limit, keep="max")
panels = st.columns(3)
for figure in (input_figure, output_figure, relu_figure):
    # The same right margin on every panel, with the colour bar inside it: a colour bar
    # would otherwise squeeze its own map and leave the input bigger than the rest.
    figure.update_layout(height=PANEL_HEIGHT, margin={"l": 0, "r": 70, "t": 30, "b": 0})
    figure.update_coloraxes(colorbar={"thickness": 14, "x": 1.0, "xpad": 6})
panels[0].plotly_chart(input_figure, key="conv_input_chart")
if colour:
    panels[1].plotly_chart(relu_figure, key="conv_relu_chart")
    panels[2].markdown(
        "**Colour:** the filter runs on the red, green and blue channels one by one; below, "
        "each channel's output on the same blue-white-red scale. Beside this, the three "
        "ReLU outputs put back together as one picture."
    )
    st.plotly_chart(
        output_figure, key="conv_output_chart", on_select="rerun", selection_mode="points"
    )
else:
    panels[1].plotly_chart(
        output_figure, key="conv_output_chart", on_select="rerun", selection_mode="points"
    )
    panels[2].plotly_chart(relu_figure, key="conv_relu_chart")
st.caption(
    "Blue is negative, red positive. ReLU is what a Conv2D with activation='relu' passes on: "
    "the negatives become 0."
)

st.header("One output pixel, by hand")
examples = {PICKED_PIXEL: None, **{e.title: e for e in WORKED_EXAMPLES.values()}}
example = examples[st.radio("Show", list(examples), key="conv_arithmetic_source")]
if example is None:
    pick = st.columns(3)
    row = pick[0].number_input("Output row", 0, out_h - 1, key="conv_row")
    col = pick[1].number_input("Output column", 0, out_w - 1, key="conv_col")
    channel = pick[2].selectbox("Channel", CHANNELS, key="conv_channel") if colour else None
    plane = values[..., CHANNELS.index(channel)] if colour else values
    sums = window_arithmetic(plane, kernel, row, col, stride, padding)
    st.caption(
        f"Click the output heat map (up to 64x64) or type a position. The window's top-left "
        f"input pixel is ({sums.top}, {sums.left}); grey cells lie in the zero padding."
    )
else:
    sums = example.arithmetic()
    st.caption(example.note)
st.latex(sums.latex())
st.markdown(f"**Sum** = {sums.formula()}")

if second != NO_SECOND:
    st.header(f"Second layer: {second}")
    stacked = convolve(relu(output) if relu_between else output, PRESETS[second])
    st.caption(
        f"{second} applied to the {'ReLU of the ' if relu_between else ''}first output with "
        f"stride 1 and 'same' padding, as a second Conv2D would: {out_h}x{out_w} in and out."
    )
    figure = signed_figure(stacked, "Second layer output", symmetric_limit(stacked))
    st.plotly_chart(figure, key="conv_second_chart")

with st.expander("What the trained classifier's first layer learned (loads TensorFlow)"):
    if not st.toggle("Load the trained classifier", key="conv_learned"):
        st.caption("The classifier's own 3x3 filters and what they see in this punk, on demand.")
        st.stop()
    try:
        model = cached_classifier()
        weights = model.first_layer_filters()  # (3, 3, c_in, n), on RGBA in [0, 1]
    except (PunksError, ImportError, OSError, ValueError) as error:  # ModelError is a PunksError
        message = str(error) if "train-classifier" in str(error) else f"{error} {TRAIN_HINT}"
        st.info(f"The trained classifier is not available: {message}")
        st.stop()
    names = {3: list("RGB"), 4: list("RGBA")}.get(weights.shape[2])
    names = names or [f"channel {c}" for c in range(weights.shape[2])]
    name = st.selectbox("Input channel of the filters", names, key="conv_learned_channel")
    learned = [weights[:, :, names.index(name), k] for k in range(weights.shape[3])]
    labels = [f"#{k + 1}" for k in range(len(learned))]
    scale = symmetric_limit(weights)
    filters_column, maps_column = st.columns(2)
    filters_column.markdown(f"**{len(learned)} learned 3x3 filters**, {name} weights")
    filters_column.plotly_chart(
        tiles(learned, labels, (-scale, scale), columns=6), key="conv_learned_filters"
    )
    if rgba.shape != (24, 24, 4):
        maps_column.info("Activation maps need a 24x24 punk: pick one in the sidebar.")
        st.stop()
    activations = model.first_layer_activations(rgba)  # (24, 24, n)
    maps = [activations[..., k] for k in range(activations.shape[2])]
    top = symmetric_limit(activations)
    maps_column.markdown("**Their activation maps on this punk**")
    maps_column.plotly_chart(tiles(maps, labels, (-top, top), columns=6), key="conv_learned_maps")
