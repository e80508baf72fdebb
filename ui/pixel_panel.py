"""Pixel panels: maps and pictures drawn pixel for pixel, with a colour bar, the value under the
pointer, a green box, and a click that picks a pixel.

The Convolution Lab opens on three of them. They used to be Plotly heat maps, and a new
browser tab pays about 0.6 s to start Plotly before its first chart (docs/BENCHMARKS.md,
"Repeat visits"): here the server paints each map as a small PNG, the browser scales it up
without smoothing, and a few lines of JavaScript (a Streamlit v2 component, no library) do
the rest.
"""

import base64
import io

import numpy as np
import streamlit as st
from PIL import Image

COLOUR_SCALE = "RdBu_r"  # negative blue, 0 white, positive red, as the lab's captions say
BAR_STOPS = 11
# The numbers behind the pointer's readout travel with the page on every rerun: up to this
# many a tile (a 256x256 map, or three 128x128 ones); a big colour picture sends none.
MAX_VALUES = 70_000

_CSS = """
.panel { font-family: "Source Sans Pro", sans-serif; color: var(--st-text-color); }
.title { font-weight: 600; font-size: 0.95rem; margin-bottom: 4px; }
.tiles { display: flex; gap: 12px; align-items: flex-start; }
.tile { flex: 1 1 0; min-width: 0; max-width: var(--tile-max); }
.tile-title { font-size: 0.85rem; margin-bottom: 2px; }
.frame { position: relative; line-height: 0; }
.frame img { width: 100%; image-rendering: pixelated; display: block; }
.frame.clickable img { cursor: crosshair; }
.box { position: absolute; border: 2px solid #00e676; box-sizing: border-box;
       pointer-events: none; }
.bar { display: flex; gap: 4px; align-self: stretch; flex: 0 0 auto; }
.bar-colours { width: 14px; border-radius: 2px; }
.bar-labels { display: flex; flex-direction: column; justify-content: space-between;
              font-size: 0.75rem; width: 44px; }
.bar.empty { visibility: hidden; }
.readout { font-size: 0.8rem; opacity: 0.8; min-height: 1.2em; margin-top: 4px; }
"""

_JS = """
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const element = (tag, className, parent, text) => {
    const made = document.createElement(tag);
    made.className = className;
    if (text !== undefined) made.textContent = text;
    parent?.appendChild(made);
    return made;
  };
  parentElement.querySelector(".panel")?.remove();
  const panel = element("div", "panel", parentElement);
  panel.style.setProperty("--tile-max", data.tile_max + "px");
  if (data.title) element("div", "title", panel, data.title);
  const row = element("div", "tiles", panel);
  const readout = element("div", "readout", null, data.hint);
  const number = (v) => (Math.abs(v) >= 1e-3 || v === 0
    ? Number(v.toPrecision(3)).toString() : v.toExponential(1)).replace("-", "\u2212");
  panel.punkValues = data.tiles.map((t) => t.values);
  panel.punkShape = [data.rows, data.cols];
  data.tiles.forEach((tile) => {
    const cell = element("div", "tile", row);
    if (tile.title) element("div", "tile-title", cell, tile.title);
    const frame = element("div", data.clickable ? "frame clickable" : "frame", cell);
    const image = element("img", "", frame);
    image.src = tile.png;
    image.alt = tile.title || data.title;
    if (data.box) {
      const [top, left, size] = data.box;
      const box = element("div", "box", frame);
      Object.assign(box.style, {
        top: (100 * top) / data.rows + "%", left: (100 * left) / data.cols + "%",
        height: (100 * size) / data.rows + "%", width: (100 * size) / data.cols + "%",
      });
    }
    const where = (event) => {
      const r = image.getBoundingClientRect();
      const col = Math.floor(((event.clientX - r.left) / r.width) * data.cols);
      const rw = Math.floor(((event.clientY - r.top) / r.height) * data.rows);
      return [Math.min(Math.max(rw, 0), data.rows - 1), Math.min(Math.max(col, 0), data.cols - 1)];
    };
    image.addEventListener("mousemove", (event) => {
      const [r, c] = where(event);
      const place = `row ${r * data.step}, column ${c * data.step}`;
      if (!tile.values) { readout.textContent = place; return; }
      const value = tile.values[r * data.cols + c];
      const text = Array.isArray(value) ? value.map(number).join(", ") : number(value);
      readout.textContent = `${place}: ${text}`;
    });
    image.addEventListener("mouseleave", () => { readout.textContent = data.hint; });
    if (data.clickable) {
      image.addEventListener("click", (event) => {
        const [r, c] = where(event);
        setStateValue("picked", { row: r * data.step, col: c * data.step });
      });
    }
  });
  {  // a picture keeps an empty bar's room, so that every panel's tiles are one size
    const bar = element("div", data.bar ? "bar" : "bar empty", row);
    const colours = element("div", "bar-colours", bar);
    const stops = data.bar ? data.bar.colours : ["transparent", "transparent"];
    colours.style.background = `linear-gradient(to top, ${stops.join(", ")})`;
    const labels = element("div", "bar-labels", bar);
    (data.bar ? data.bar.labels : ["", "", ""]).forEach((text) => {
      element("span", "", labels, text);
    });
  }
  panel.appendChild(readout);
}
"""

_COMPONENT = st.components.v2.component(
    "punk_lab_pixel_panel", html="", css=_CSS, js=_JS, isolate_styles=True
)


def readable(value: float) -> str:
    """A colour bar label: three significant digits, no SI prefix, a true minus sign."""
    text = f"{value:.3g}" if value == 0 or abs(value) >= 1e-3 else f"{value:.1e}"
    return text.replace("-", "−")


def _png_url(rgb: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _diverging(values: np.ndarray, limit: float) -> np.ndarray:
    from matplotlib import colormaps

    scaled = np.clip((values / limit + 1) / 2, 0, 1)
    return (colormaps[COLOUR_SCALE](scaled)[..., :3] * 255).round().astype(np.uint8)


def _picture(values: np.ndarray) -> np.ndarray:
    grey = np.clip(values, 0, 1) * 255
    rgb = np.repeat(grey[..., None], 3, axis=2) if values.ndim == 2 else grey
    return rgb.round().astype(np.uint8)


def _bar(limit: float) -> dict:
    from matplotlib import colormaps

    stops = colormaps[COLOUR_SCALE](np.linspace(0, 1, BAR_STOPS))[:, :3] * 255
    colours = [f"rgb({r:.0f}, {g:.0f}, {b:.0f})" for r, g, b in stops]
    return {"colours": colours, "labels": [readable(limit), "0", readable(-limit)]}


def _rounded(values: np.ndarray) -> list | None:
    if values.size > MAX_VALUES:
        return None
    return np.round(values.astype(np.float64), 4).reshape(-1, *values.shape[2:]).tolist()


def pixel_panel(
    tiles: list[tuple[str, np.ndarray]],
    *,
    key: str,
    title: str = "",
    limit: float | None = None,
    step: int = 1,
    box: tuple[int, int, int] | None = None,
    clickable: bool = False,
    tile_max: int = 340,
) -> tuple[int, int] | None:
    """Draw (title, map) tiles side by side, one pixel of each map a square of the picture.

    Args:
        tiles: (H, W) maps, or (H, W, 3) RGB pictures in [0, 1], all the same size.
        key: the widget key; a click's pixel is kept in `st.session_state[key]["picked"]`.
        title: above the tiles.
        limit: a diverging blue-white-red scale from -limit to limit with its colour bar;
            None draws the tiles as pictures clipped to [0, 1] (grey or colour).
        step: input pixels per shown pixel (a map pooled for display), for the coordinates.
        box: (top, left, size) in shown pixels: framed in green on every tile.
        clickable: a click picks a pixel.
        tile_max: the largest width of a tile on screen, in pixels.

    Returns:
        The last pixel clicked, (row, column) in input pixels, or None.
    """
    rows, cols = tiles[0][1].shape[:2]
    paint = (lambda v: _diverging(v, limit)) if limit is not None else _picture
    data = {
        "title": title,
        "rows": rows,
        "cols": cols,
        "step": step,
        "box": list(box) if box else None,
        "clickable": clickable,
        "tile_max": tile_max,
        "hint": "Click a pixel to open up its sum." if clickable else "Point at a pixel.",
        "tiles": [
            {"title": name, "png": _png_url(paint(values)), "values": _rounded(values)}
            for name, values in tiles
        ],
        "bar": _bar(limit) if limit is not None else None,
    }
    on_change = (lambda: None) if clickable else None
    result = _COMPONENT(key=key, data=data, on_picked_change=on_change)
    picked = (result or {}).get("picked") if clickable else None
    return (int(picked["row"]), int(picked["col"])) if picked else None
