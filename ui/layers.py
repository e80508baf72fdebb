"""A punk's layers in words and pictures: which accessories show, and the stack bottom first."""

import streamlit as st

from punks_core.imaging import composite
from punks_core.layer_order import in_paint_order
from ui.pixels import exact_img


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
