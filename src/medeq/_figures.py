"""Shared pieces of medeq's figures: sample groups, colours, grids, HTML.

Every figure shows the campaign's samples the same way: one colour per
sampling epoch, a diamond for augmented (historical / manual) epochs and an
open circle for queued, not yet evaluated, samples. Heat-map slices are
drawn on the same regular grids, and figures are written as standalone,
offline HTML files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from .arguments import name_index
from .parameters import is_integer, is_log, label, parameter_units, spaced_values

#: Epoch colours, cycled when there are more epochs than colours.
PALETTE: list[str] = list(plotly.colors.qualitative.Plotly) + list(plotly.colors.qualitative.D3)
#: Colour of the queued (not yet evaluated) samples.
QUEUE_COLOR = "#404040"
#: Marker symbol by kind of sample group.
SYMBOLS = {"evaluated": "circle", "augmented": "diamond", "queued": "circle-open"}
#: Colour scales of the response values and of the uncertainty.
MEAN_SCALE = "Viridis"
STD_SCALE = "Magma"
#: Plotly.js configuration used for every figure written to HTML.
CONFIG = {"displaylogo": False, "responsive": True}


@dataclass
class SampleGroup:
    """Samples drawn together: one epoch, or the queue.

    Attributes
    ----------
    name : str
        Legend label, e.g. ``"epoch 1"`` or ``"epoch 2 (augmented)"``.
    kind : str
        ``"evaluated"``, ``"augmented"`` or ``"queued"``.
    points : np.ndarray
        The samples, ``(n, P)`` in real units.
    responses : np.ndarray or None
        Their responses ``(n, K)``; ``None`` for queued samples.
    color, symbol : str
        Marker colour and symbol.
    """

    name: str
    kind: str
    points: np.ndarray
    responses: np.ndarray | None
    color: str
    symbol: str


def parameter_labels(med) -> list[str]:
    """Axis labels of the parameters, with their units: ``"R [mm]"``."""
    return [label(n, u) for n, u in zip(med.parameter_names, parameter_units(med.parameters))]


def response_label(med, k: int) -> str:
    """Axis label of response ``k``, with its unit: ``"F [uN]"``."""
    name = med.names[k]
    return label(name, (getattr(med, "response_units", None) or {}).get(name))


def check_colors(colors) -> list[str]:
    """Epoch colours: ``None`` (default palette), one colour, or a list."""
    if colors is None:
        return PALETTE
    if isinstance(colors, str):
        return [colors]
    if isinstance(colors, Sequence) and colors and all(isinstance(c, str) for c in colors):
        return list(colors)
    raise TypeError(
        f"colors must be a CSS colour string or a non-empty list of them (one per epoch); "
        f"got {colors!r}."
    )


def sample_groups(med, colors=None) -> list[SampleGroup]:
    """The campaign's samples split by epoch, then the queue (if any)."""
    palette = check_colors(colors)
    groups = []
    evaluated = med.evaluated
    origins = list(getattr(med, "epoch_origins", [])) or ["evaluated"] * len(med.epochs)
    for i, ((start, end), origin) in enumerate(zip(med.epochs, origins)):
        kind = "augmented" if origin == "augmented" else "evaluated"
        name = f"epoch {i}" + (" (augmented)" if kind == "augmented" else "")
        groups.append(SampleGroup(
            name, kind, evaluated[start:end], med.responses[start:end],
            palette[i % len(palette)], SYMBOLS[kind],
        ))
    queue = med.queue
    if len(queue):
        groups.append(SampleGroup(
            f"queued ({len(queue)})", "queued", queue, None, QUEUE_COLOR, SYMBOLS["queued"],
        ))
    return groups


def hover_text(group: SampleGroup, names: Sequence[str]) -> list[str]:
    """Hover label of every sample of a group: its responses, or 'queued'."""
    if group.responses is None:
        return ["queued, not evaluated yet"] * len(group.points)
    return [
        "<br>".join(f"{n} = {v:.6g}" for n, v in zip(names, row)) for row in group.responses
    ]


def marker(group: SampleGroup, size: float, **extra) -> dict:
    """Marker style of a sample group."""
    line = {"width": 2 if group.kind == "queued" else 0.5,
            "color": group.color if group.kind == "queued" else "white"}
    return {"color": group.color, "symbol": group.symbol, "size": size, "line": line, **extra}


def with_surrogate(med, response) -> list[int]:
    """Indices of the responses to draw (``None``: all with a surrogate); clear
    errors when the campaign or the chosen response has no surrogate yet."""
    if med.gp is None:
        raise RuntimeError(
            "no surrogate yet: it needs at least 2 evaluated samples with finite responses; "
            f"this campaign has {med.n_evaluated} evaluated sample(s). Call med.sample(n) and "
            "med.evaluate(...) first."
        )
    if response is None:
        return [k for k, model in enumerate(med.gp) if model is not None]
    k = med.response_index(response)
    if med.gp[k] is None:
        raise RuntimeError(
            f"response {med.names[k]!r} has fewer than 2 finite results: no surrogate."
        )
    return [k]


def check_resolution(resolution) -> tuple[int, int]:
    """A grid resolution ``(nx, ny)`` of integers >= 2 (an int means square)."""
    if isinstance(resolution, (int, np.integer)) and not isinstance(resolution, bool):
        resolution = (resolution, resolution)
    try:
        nx, ny = (int(r) for r in resolution)
        ok = all(int(r) == r and r >= 2 for r in resolution)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"resolution must be an integer or a pair of integers >= 2, e.g. (32, 32); "
            f"got {resolution!r}."
        )
    return nx, ny


def parameter_index(med, parameter) -> int:
    """Index of a parameter given by name or position."""
    return name_index(parameter, med.parameter_names, "parameter")


def axis_pair(med, parameters=None) -> tuple[int, int]:
    """The two parameters drawn on the x and y axes (default: the first two)."""
    if len(med.parameter_names) < 2:
        raise ValueError("a 2-D slice needs at least 2 parameters; this campaign has 1.")
    if parameters is None:
        return 0, 1
    if isinstance(parameters, str) or len(parameters) != 2:
        raise ValueError(
            f"parameters must be a pair of parameter names or indices, e.g. "
            f"{med.parameter_names[:2]}; got {parameters!r}."
        )
    i, j = (parameter_index(med, p) for p in parameters)
    if i == j:
        raise ValueError(f"the two axis parameters must differ; got {parameters!r}.")
    return i, j


def fixed_values(med, values=None) -> np.ndarray:
    """Values of the parameters held fixed: ``med.parameters['value']``, overridden
    by the ``values`` dict (name -> value), which must lie within the bounds."""
    fixed = med.parameters["value"].to_numpy(float).copy()
    if values is None:
        return fixed
    if not isinstance(values, dict):
        raise TypeError(f"values must be a dict parameter name -> value; got {values!r}.")
    for name, value in values.items():
        k = parameter_index(med, name)
        low, high = med.parameters["min"].iloc[k], med.parameters["max"].iloc[k]
        if not np.isfinite(value) or not low <= value <= high:
            raise ValueError(
                f"values[{name!r}] = {value!r} lies outside the bounds [{low}, {high}] of "
                f"parameter {med.parameter_names[k]!r}."
            )
        fixed[k] = float(value)
    return fixed


def slice_grid(med, pair: tuple[int, int], fixed: np.ndarray, resolution: tuple[int, int]):
    """Regular grid over the ``pair`` of parameters, the others at ``fixed``.

    Returns the x and y coordinates and the ``(ny * nx, P)`` points, row-major
    so that ``values.reshape(len(ys), len(xs))`` is a heat map's ``z``. Grids
    are even in each parameter's scale (geometric for a log scale) and an
    integer parameter has at most one line per integer, so there may be
    fewer than ``resolution`` lines.
    """
    i, j = pair
    xs = spaced_values(med.parameters, i, resolution[0])
    ys = spaced_values(med.parameters, j, resolution[1])
    gx, gy = np.meshgrid(xs, ys)
    points = np.tile(np.asarray(fixed, float), (gx.size, 1))
    points[:, i], points[:, j] = gx.ravel(), gy.ravel()
    return xs, ys, points


def line_grid(med, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Points along the only parameter of a 1-D campaign: ``(xs, (n, 1) points)``."""
    xs = spaced_values(med.parameters, 0, resolution)
    return xs, xs[:, None]


def axis_scale(med, k: int, low: float, high: float) -> dict:
    """Plotly axis settings showing parameter ``k`` over ``[low, high]``: a log
    axis for a log-scaled parameter (Plotly gives its range in ``log10``); an
    integer parameter's range is widened by half a step, so that the heat-map
    cells of its extreme integers show whole."""
    if is_integer(med.parameters)[k]:
        low, high = low - 0.5, high + 0.5
    if is_log(med.parameters)[k]:
        return {"type": "log", "range": [float(np.log10(low)), float(np.log10(high))]}
    return {"range": [low, high]}


def colorbar_for(fig: go.Figure, row: int, col: int) -> dict:
    """A colour bar placed just right of subplot ``(row, col)`` (its title names it)."""
    subplot = fig.get_subplot(row, col)
    x0, x1 = subplot.xaxis.domain
    y0, y1 = subplot.yaxis.domain
    return {"x": x1 + 0.005, "xanchor": "left",
            "y": (y0 + y1) / 2, "len": (y1 - y0), "thickness": 12}


def rounded(values, digits: int = 6):
    """Nested lists of floats with ``digits`` significant digits (smaller JSON)."""
    arr = np.asarray(values, float)
    flat = [float(f"{v:.{digits}g}") if np.isfinite(v) else None for v in arr.ravel()]
    return np.array(flat, dtype=object).reshape(arr.shape).tolist()


def finish(fig: go.Figure, path=None, **layout) -> go.Figure:
    """Apply user layout options and write a standalone HTML file if ``path``."""
    if layout:
        fig.update_layout(**layout)
    if path is not None:
        write_html(fig, path)
    return fig


def write_html(fig: go.Figure, path) -> Path:
    """Write ``fig`` as a standalone HTML page with plotly.js inlined (offline)."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"path must end in .html (a standalone HTML page); got {str(path)!r}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(path, include_plotlyjs=True, include_mathjax=False, full_html=True,
                   config=CONFIG)
    return path


def add_curves(fig: go.Figure, row: int, xs: np.ndarray, panels: list) -> None:
    """Curves of a 1-D campaign in ``row``: mean with a 2-std band, std, and the truth."""
    mean, std = panels[0], panels[1]
    band_x = np.concatenate([xs, xs[::-1]])
    band_y = np.concatenate([mean + 2 * std, (mean - 2 * std)[::-1]])
    fig.add_trace(go.Scatter(x=band_x, y=band_y, fill="toself", mode="none",
                             fillcolor="rgba(99, 110, 250, 0.2)", name="mean ± 2 std",
                             showlegend=row == 1, legendgroup="band"), row=row, col=1)
    fig.add_trace(go.Scatter(x=xs, y=mean, mode="lines", line={"color": "#636efa"},
                             name="surrogate mean", showlegend=row == 1,
                             legendgroup="mean"), row=row, col=1)
    fig.add_trace(go.Scatter(x=xs, y=std, mode="lines", line={"color": "#b6306b"},
                             name="surrogate std", showlegend=row == 1,
                             legendgroup="std"), row=row, col=2)
    if len(panels) > 2:
        fig.add_trace(go.Scatter(x=xs, y=panels[2], mode="lines",
                                 line={"color": "black", "dash": "dash"}, name="true response",
                                 showlegend=row == 1, legendgroup="true"), row=row, col=3)
