"""Charts that read plainly: Plotly without SI prefixes, and static Matplotlib pictures.

A chart read at a glance on a page that opens on it is a picture (Matplotlib, drawn on the
server): a new browser tab pays about 0.6 s to start Plotly before its first chart. Plotly
stays where a chart is explored (hover, zoom, a click that picks a pixel).
"""

import io
import threading

BAR_BLUE = "#83c9ff"  # the bars of Streamlit's own Plotly theme
TABLE_BAR = "#2f6690"  # a darker blue for bars behind light table text
PAGE_BACKGROUND = "#0e1117"  # the app's dark theme: the pictures stay legible on a light one
# Matplotlib's style is global and every Streamlit session runs in its own thread: one
# picture at a time, so that no session draws in another's style.
DRAWING = threading.Lock()


def plain_numbers(figure, *axes: str):
    """No SI prefixes ("1μ", "10f") on a Plotly figure's axes and colour bar: learners read
    plain numbers or powers of ten."""
    for axis in axes or ("xaxis", "yaxis"):
        figure.update_layout({axis: {"exponentformat": "power"}})
    figure.update_coloraxes(colorbar_exponentformat="power")
    return figure


def png_of(build) -> bytes:
    """PNG bytes of the Matplotlib figure that `build()` returns, drawn in the dark style on
    the app's background (for `st.image`)."""
    from matplotlib import style

    buffer = io.BytesIO()
    with DRAWING, style.context("dark_background"):
        build().savefig(buffer, format="png", facecolor=PAGE_BACKGROUND)
    return buffer.getvalue()


def bar_figure(
    counts, title: str, log: bool, horizontal: bool = False, names_label: str | None = None
):
    """Counts as bars, a static picture (Matplotlib): for charts read at a glance on a page
    that must open fast (a new tab pays about 0.6 s to load Plotly before its first chart).
    On a log axis the ticks read 1, 10, 100, 1,000, never "5, 2, 1000"."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator

    names, values = [str(name) for name in counts.index], counts.to_numpy()
    size = (9, 0.16 * len(names) + 1.2) if horizontal else (9, 3.6)
    figure = Figure(figsize=size, dpi=100, layout="constrained")
    axes = figure.add_subplot()
    draw = axes.barh if horizontal else axes.bar
    draw(names, values, color=BAR_BLUE)
    value_axis = axes.xaxis if horizontal else axes.yaxis
    if log:  # one base for every bar (below 1, so that a count of 1 still shows)
        (axes.set_xscale if horizontal else axes.set_yscale)("log")
        (axes.set_xlim if horizontal else axes.set_ylim)(0.5, values.max() * 1.6)
        value_axis.set_major_locator(LogLocator(base=10))
    value_axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    (axes.set_xlabel if horizontal else axes.set_ylabel)("punks")
    if names_label:
        (axes.set_ylabel if horizontal else axes.set_xlabel)(names_label)
    axes.set_title(title, loc="left", fontsize=12)
    axes.grid(axis="x" if horizontal else "y", alpha=0.25)
    if horizontal:
        axes.tick_params(axis="y", labelsize=8)
        axes.margins(y=0.005)
        axes.invert_yaxis()  # the first row on top
    return figure
