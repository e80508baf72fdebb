"""The Convolution Lab's parts: the sidebar (picture and layer), the picture as the filter sees
it, the input / output / ReLU panels with the output pixel picked by a click, one output
pixel's sum by hand, a second layer, and what the trained classifier's first layer learned."""

import random
from dataclasses import dataclass

import numpy as np
import streamlit as st

from punks_core.dataset import N_PUNKS
from punks_core.display_pooling import shrink_for_display
from punks_core.errors import InvalidImageError, PunksError
from punks_core.filter_arithmetic import WORKED_EXAMPLES, window_arithmetic
from punks_core.filters import (
    PADDINGS,
    STRIDES,
    convolve,
    output_size,
    output_size_formula,
    relu,
    to_grayscale,
    to_rgb,
)
from punks_core.heatmaps import CHANNELS, symmetric_limit, tiles
from punks_core.imaging import load_picture
from punks_core.kernels import PRESETS
from ui.loaders import cached_classifier, punks_or_stop
from ui.pixel_panel import pixel_panel
from ui.pixels import show_punk

NO_SECOND = "No second layer"
FORMATS = ["png", "jpg", "jpeg", "webp", "gif", "bmp"]
PICKED_PIXEL = "The output pixel picked below"
TRAIN_HINT = "Build it with `python -m punks_core train-classifier`."
state = st.session_state


@dataclass(frozen=True)
class LabSettings:
    """The sidebar's choices: which picture, in what channels, through what layer."""

    source: str
    punk_id: int | None  # with source "Punk"
    upload: object | None  # with source "Upload": Streamlit's UploadedFile, or None yet
    colour: bool
    stride: int
    padding: str
    second: str
    relu_between: bool


def random_punk() -> None:
    state.conv_punk_id = random.randrange(N_PUNKS)


def lab_sidebar() -> LabSettings:
    """The picture (a punk, an upload, or the Punk Builder's punk) and the layer's settings."""
    punk_id = upload = None
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
        st.header("Layer")
        stride = st.radio("Stride", STRIDES, horizontal=True, key="conv_stride")
        padding = st.radio("Padding", PADDINGS, horizontal=True, key="conv_padding")
        second = st.selectbox(
            "Second layer on the output", [NO_SECOND, *PRESETS], key="conv_second"
        )
        relu_between = st.toggle("ReLU between the layers", True, key="conv_relu_between")
    return LabSettings(
        source, punk_id, upload, mode != "Grayscale", stride, padding, second, relu_between
    )


@st.cache_resource(max_entries=4, show_spinner="Reading the picture…")
def upload_values(file_id: str, _data: bytes, colour: bool):
    """The upload as RGBA, as the floats the filter sees, and pooled for display."""
    # A resource, not data: read-only arrays shared as they are, since copying a 1024x1024x3
    # float image out of st.cache_data on every kernel edit would eat the rerun's budget.
    # `_data` is keyed by `file_id`: Streamlit gives every uploaded file its own.
    rgba = load_picture(_data, max_side=1024)
    values = to_rgb(rgba) if colour else to_grayscale(rgba)
    preview = shrink_for_display(values, keep="mean")
    for array in (rgba, values, preview[0]):
        array.setflags(write=False)
    return rgba, values, preview


def picture_or_stop(settings: LabSettings):
    """(RGBA, the values the filter sees, a preview for display) of the chosen picture; until
    a picture is uploaded, or when it cannot be read: what to do, and the end of the page."""
    if settings.source in ("Punk", "Punk Builder"):
        if settings.source == "Punk":
            punks = punks_or_stop()
            rgba = punks.images[punks.row(settings.punk_id)]
        else:
            rgba = state.builder_punk
        values = to_rgb(rgba) if settings.colour else to_grayscale(rgba)
        with st.sidebar:
            show_punk(rgba, scale=6)
        return rgba, values, (values, 1)
    if settings.upload is None:
        names = ", ".join(f.upper() for f in FORMATS if f != "jpg").replace("WEBP", "WebP")
        st.info(f"Upload a picture in the sidebar ({names}), or pick a punk.")
        st.stop()
    try:
        return upload_values(settings.upload.file_id, settings.upload.getvalue(), settings.colour)
    except InvalidImageError as error:
        st.error(f"This file cannot be used: {error}")
        st.stop()


def output_size_or_stop(height: int, width: int, stride: int, padding: str) -> tuple[int, int]:
    """The output's rows and columns, or why the picture is too small, and the end."""
    out_h, out_w = output_size(height, 3, stride, padding), output_size(width, 3, stride, padding)
    if out_h <= 0 or out_w <= 0:
        st.info(
            f"A {height}x{width} picture is smaller than the 3x3 kernel: choose 'same' padding."
        )
        st.stop()
    return out_h, out_w


def show_output_size(height: int, width: int, stride: int, padding: str) -> None:
    st.markdown("**Output size**, per axis: n_out = ⌊(n_in + 2p − f) / s⌋ + 1")
    st.text(
        f"rows:    {output_size_formula(height, 3, stride, padding)}\n"
        f"columns: {output_size_formula(width, 3, stride, padding)}",
    )
    st.caption("Keras' 'same' pads to ⌈n / s⌉ outputs; an odd zero goes after, not before.")


def picked_pixel(out_h: int, out_w: int) -> tuple[int, int]:
    """The output pixel to explain. The last click on the output (its widget state, readable
    before the map is drawn again) moves the pixel pickers once; they stay free to type in
    after that."""
    clicked = (state.get("conv_output_chart") or {}).get("picked")
    clicked = (int(clicked["row"]), int(clicked["col"])) if clicked else None
    if clicked and clicked != state.get("conv_last_click"):
        state.conv_last_click = clicked
        state.conv_row, state.conv_col = clicked
    state.conv_row = min(state.get("conv_row", out_h // 2), out_h - 1)
    state.conv_col = min(state.get("conv_col", out_w // 2), out_w - 1)
    return state.conv_row, state.conv_col


def channel_tiles(values: np.ndarray) -> tuple[list[tuple[str, np.ndarray]], int]:
    """A signed map as panel tiles, pooled for display, and the pooling step: one tile of up to
    256 pixels a side, or one per colour channel (R, G, B) of up to 128 (three share a row)."""
    shown, step = shrink_for_display(values, max_side=256 if values.ndim == 2 else 128)
    if shown.ndim == 2:
        return [("", shown)], step
    names = ("Red", "Green", "Blue")
    return [(f"{name} channel", shown[..., c]) for c, name in enumerate(names)], step


def _shown_box(top: int, left: int, size: int, step: int) -> tuple[float, float, float]:
    """A box in input pixels as the pooled map shows it."""
    return top / step, left / step, max(size / step, 1)


def show_panels(
    values, preview, kernel, settings: LabSettings, picked: tuple[int, int], out_size
) -> np.ndarray:
    """Input, output and ReLU side by side, the picked pixel's window boxed; returns the output.

    Every panel is one third of the page wide, so they are drawn at one size; in colour the
    output's R, G and B tiles take a row of their own, each as wide as a panel.
    """
    colour, stride, padding = settings.colour, settings.stride, settings.padding
    height, width = values.shape[:2]
    window = window_arithmetic(values[..., 0] if colour else values, kernel, *picked, stride,
                               padding)  # fmt: skip
    output = convolve(values, kernel, stride, padding)
    out_h, out_w = out_size
    limit = symmetric_limit(output)
    output_tiles, step = channel_tiles(output)
    panels = st.columns(3)
    with panels[0]:
        input_image, input_step = preview
        pixel_panel(
            [("", input_image)], key="conv_input_chart", title=f"Input {height}x{width}",
            box=_shown_box(window.top, window.left, 3, input_step), step=input_step,
        )  # fmt: skip
    output_panel = st.container() if colour else panels[1]
    with output_panel:
        pixel_panel(
            output_tiles, key="conv_output_chart", title=f"Output {out_h}x{out_w}",
            limit=limit, step=step, box=_shown_box(*picked, 1, step), clickable=True,
        )  # fmt: skip
    with panels[1] if colour else panels[2]:
        if colour:  # max pooling commutes with ReLU: the big map is pooled first, then clipped
            pooled, relu_step = shrink_for_display(output, keep="max")
            pixel_panel(
                [("", relu(pooled))], key="conv_relu_chart", step=relu_step,
                title="ReLU(output), clipped to [0, 1]",
            )  # fmt: skip
        else:
            pooled, relu_step = shrink_for_display(relu(output), keep="max")
            pixel_panel(
                [("", pooled)], key="conv_relu_chart", title="ReLU(output)", limit=limit,
                step=relu_step,
            )  # fmt: skip
    if colour:
        panels[2].markdown(
            "**Colour:** the filter runs on the red, green and blue channels one by one; below, "
            "each channel's output on the same blue-white-red scale. Beside this, the three "
            "ReLU outputs put back together as one picture."
        )
    st.caption(
        "Blue is negative, red positive. ReLU is what a Conv2D with activation='relu' passes "
        "on: the negatives become 0."
    )
    return output


def show_arithmetic(values, kernel, settings: LabSettings, out_size: tuple[int, int]) -> None:
    """One output pixel's sum, term by term: the pixel picked, or a worked example."""
    colour = settings.colour
    out_h, out_w = out_size
    examples = {PICKED_PIXEL: None, **{e.title: e for e in WORKED_EXAMPLES.values()}}
    example = examples[st.radio("Show", list(examples), key="conv_arithmetic_source")]
    if example is None:
        pick = st.columns(3)
        row = pick[0].number_input("Output row", 0, out_h - 1, key="conv_row")
        col = pick[1].number_input("Output column", 0, out_w - 1, key="conv_col")
        channel = pick[2].selectbox("Channel", CHANNELS, key="conv_channel") if colour else None
        plane = values[..., CHANNELS.index(channel)] if colour else values
        sums = window_arithmetic(plane, kernel, row, col, settings.stride, settings.padding)
        st.caption(
            f"Click the output map or type a position. The window's top-left "
            f"input pixel is ({sums.top}, {sums.left}); grey cells lie in the zero padding."
        )
    else:
        sums = example.arithmetic()
        st.caption(example.note)
    st.latex(sums.latex())
    st.markdown(f"**Sum** = {sums.formula()}")


def show_second_layer(output, settings: LabSettings, out_size: tuple[int, int]) -> None:
    """A preset applied to the first output, as a second Conv2D would (stride 1, 'same')."""
    second, relu_between = settings.second, settings.relu_between
    out_h, out_w = out_size
    st.header(f"Second layer: {second}")
    stacked = convolve(relu(output) if relu_between else output, PRESETS[second])
    st.caption(
        f"{second} applied to the {'ReLU of the ' if relu_between else ''}first output with "
        f"stride 1 and 'same' padding, as a second Conv2D would: {out_h}x{out_w} in and out."
    )
    second_tiles, step = channel_tiles(stacked)
    with st.container() if settings.colour else st.columns(3)[0]:
        pixel_panel(
            second_tiles, key="conv_second_chart", title="Second layer output",
            limit=symmetric_limit(stacked), step=step,
        )  # fmt: skip


def show_learned_filters(rgba: np.ndarray) -> None:
    """The trained classifier's own 3x3 filters and their maps on this punk, on request (the
    one part of the lab that loads TensorFlow)."""
    with st.expander("What the trained classifier's first layer learned (loads TensorFlow)"):
        if not st.toggle("Load the trained classifier", key="conv_learned"):
            st.caption(
                "The classifier's own 3x3 filters and what they see in this punk, on demand."
            )
            return
        try:
            model = cached_classifier()
            weights = model.first_layer_filters()  # (3, 3, c_in, n), on RGBA in [0, 1]
        except (PunksError, ImportError, OSError, ValueError) as error:  # ModelError: PunksError
            message = str(error) if "train-classifier" in str(error) else f"{error} {TRAIN_HINT}"
            st.info(f"The trained classifier is not available: {message}")
            return
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
            return
        activations = model.first_layer_activations(rgba)  # (24, 24, n)
        maps = [activations[..., k] for k in range(activations.shape[2])]
        top = symmetric_limit(activations)
        maps_column.markdown("**Their activation maps on this punk**")
        maps_column.plotly_chart(
            tiles(maps, labels, (-top, top), columns=6), key="conv_learned_maps"
        )
