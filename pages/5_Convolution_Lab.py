"""Convolution Lab: hand-made 3x3 filters on a punk or any picture, with the arithmetic shown."""

import streamlit as st

from ui.convolution_lab import (
    NO_SECOND,
    lab_sidebar,
    output_size_or_stop,
    picked_pixel,
    picture_or_stop,
    show_arithmetic,
    show_learned_filters,
    show_output_size,
    show_panels,
    show_second_layer,
)
from ui.kernel_editor import kernel_editor, kernel_from_url, start_with_the_first_preset
from ui.navigation import page_header

page_header(__file__)
st.session_state.setdefault("conv_punk_id", 0)
start_with_the_first_preset()
kernel_from_url()
settings = lab_sidebar()

st.caption(
    "A Keras `Conv2D` with one hand-made 3x3 filter: cross-correlation, zero padding, stride. "
    "Unlike the usual grayscale demos, negative outputs stay visible (blue), colour channels "
    "are filtered one by one, and every output pixel's sum can be opened up below."
)
rgba, values, preview = picture_or_stop(settings)
height, width = values.shape[:2]
out_size = output_size_or_stop(height, width, settings.stride, settings.padding)

editor_column, size_column = st.columns([1, 2])
with editor_column:
    kernel = kernel_editor()
with size_column:
    show_output_size(height, width, settings.stride, settings.padding)
picked = picked_pixel(*out_size)
output = show_panels(values, preview, kernel, settings, picked, out_size)

st.header("One output pixel, by hand")
show_arithmetic(values, kernel, settings, out_size)
if settings.second != NO_SECOND:
    show_second_layer(output, settings, out_size)
show_learned_filters(rgba)
