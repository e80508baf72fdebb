"""Plotly figures that read plainly: powers of ten, not SI prefixes, on axes and colour bars."""


def plain_numbers(figure, *axes: str):
    """No SI prefixes ("1μ", "10f") on a Plotly figure's axes and colour bar: learners read
    plain numbers or powers of ten."""
    for axis in axes or ("xaxis", "yaxis"):
        figure.update_layout({axis: {"exponentformat": "power"}})
    figure.update_coloraxes(colorbar_exponentformat="power")
    return figure
