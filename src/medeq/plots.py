"""Plots of a campaign (Plotly): where the samples went, what the surrogate
believes and where it is unsure.

Every function returns a :class:`plotly.graph_objects.Figure` (shown inline
in Jupyter with ``fig.show()``) and writes a standalone, offline HTML page
when given ``path="figure.html"``; other keyword arguments update the
figure's layout (``title=``, ``height=``, ``template=``...).

>>> fig = med.plot_samples()
>>> fig = med.plot_response(f=instrument, path="response.html")
>>> fig = med.plot_gp(response="y", parameters=("A", "C"))
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import responses as resp
from .parameters import is_log
from ._figures import (
    MEAN_SCALE,
    STD_SCALE,
    add_curves,
    axis_pair,
    axis_scale,
    check_resolution,
    colorbar_for,
    finish,
    fixed_values,
    hover_text,
    line_grid,
    marker,
    parameter_labels,
    response_label,
    sample_groups,
    slice_grid,
    with_surrogate,
)
from .slices import plot_gp

__all__ = ["plot_samples", "plot_response", "plot_gp"]

def plot_samples(med, colors=None, marker_size: float = 10, path=None, **kwargs) -> go.Figure:
    """Plot the samples, one colour per sampling epoch.

    1, 2 and 3 parameters give a strip, scatter and 3-D scatter plot; more
    parameters give a scatter matrix. Augmented (historical / manual)
    epochs are drawn as diamonds and queued, not yet evaluated, samples as
    open dark circles.

    Parameters
    ----------
    med : medeq.MED
        The campaign.
    colors : str or list[str], optional
        CSS colours of the epochs, cycled; default Plotly's palette.
    marker_size : float, default 10
        Marker size in pixels.
    path : str or Path, optional
        Also write the figure as a standalone HTML file here.
    **kwargs
        Layout options, e.g. ``title="..."``, ``height=600``.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    names = med.parameter_names
    d = len(names)
    groups = sample_groups(med, colors)
    fig = go.Figure()
    for group in groups:
        text = hover_text(group, med.names)
        style = marker(group, marker_size * (0.6 if d == 3 else 1.0))
        common = {"name": group.name, "legendgroup": group.name, "text": text}
        if d == 1:
            fig.add_trace(go.Scatter(x=group.points[:, 0], y=[group.name] * len(group.points),
                                     mode="markers", marker=style, **common))
        elif d == 2:
            fig.add_trace(go.Scatter(x=group.points[:, 0], y=group.points[:, 1],
                                     mode="markers", marker=style, **common))
        elif d == 3:
            fig.add_trace(go.Scatter3d(x=group.points[:, 0], y=group.points[:, 1],
                                       z=group.points[:, 2], mode="markers", marker=style,
                                       **common))
        else:
            dimensions = [{"label": n, "values": group.points[:, k]} for k, n in enumerate(names)]
            fig.add_trace(go.Splom(dimensions=dimensions, marker=style, showupperhalf=False,
                                   diagonal={"visible": False}, **common))
    _sample_axes(fig, med, groups)
    n_epochs = len(med.epochs)
    fig.update_layout(
        title=f"{med.n_evaluated} evaluated sample(s) in {n_epochs} epoch(s), "
              f"{len(med.queue)} queued",
        legend={"title": {"text": "samples"}},
        height=max(450, 140 * d) if d > 3 else (600 if d == 3 else 500),
    )
    return finish(fig, path, **kwargs)


def _sample_axes(fig: go.Figure, med, groups) -> None:
    """Axis titles and ranges covering the bounds (and any augmented point)."""
    names = parameter_labels(med)
    axes = [_padded_axis(med, k, groups) for k in range(len(names))]
    if len(names) == 1:
        fig.update_xaxes(title=names[0], **axes[0])
        fig.update_yaxes(title="epoch", type="category")
    elif len(names) == 2:
        fig.update_xaxes(title=names[0], **axes[0])
        fig.update_yaxes(title=names[1], **axes[1])
    elif len(names) == 3:
        fig.update_scenes(**{f"{a}axis": {"title": {"text": n}, **axis}
                             for a, n, axis in zip("xyz", names, axes)},
                          aspectmode="cube", camera={"eye": {"x": 1.7, "y": 1.7, "z": 1.1}})
        fig.update_layout(margin={"l": 10, "r": 10, "b": 10, "t": 60})
    else:
        layout = {}
        for k, axis in enumerate(axes):
            suffix = "" if k == 0 else str(k + 1)
            layout[f"xaxis{suffix}"] = dict(axis)
            layout[f"yaxis{suffix}"] = dict(axis)
        fig.update_layout(**layout, dragmode="select")


def _padded_axis(med, k: int, groups) -> dict:
    """Axis over the bounds and every sample, padded by 4% (in the log for a log scale)."""
    low, high = float(med.parameters["min"].iloc[k]), float(med.parameters["max"].iloc[k])
    for group in groups:
        if len(group.points):
            low = min(low, float(group.points[:, k].min()))
            high = max(high, float(group.points[:, k].max()))
    if is_log(med.parameters)[k]:
        pad = (high / low) ** 0.04
        return axis_scale(med, k, low / pad, high * pad)
    pad = 0.04 * (high - low)
    return axis_scale(med, k, low - pad, high + pad)


def plot_response(med, f=None, colors=None, response=None, parameters=None, values=None,
                  resolution=(32, 32), marker_size: float = 8, path=None,
                  **kwargs) -> go.Figure:
    """Surrogate mean, uncertainty and (optionally) the true response side by side.

    One row per response. With two or more parameters the panels are heat
    maps over a pair of parameters, the others held at fixed values; with one
    parameter they are curves. The evaluated samples are overlaid, coloured
    by epoch (projected onto the pair of parameters).

    Parameters
    ----------
    med : medeq.MED
        A campaign with a fitted surrogate (at least 2 results).
    f : callable, optional
        The true response, called like in ``med.evaluate(f)`` with one
        sample vector (real units); returning a number, a list (one value
        per response) or a dict name -> value. Adds a third panel.
    colors : str or list[str], optional
        Epoch colours, as in :func:`plot_samples`.
    response : str or int, optional
        One response; ``None`` draws every response with a surrogate.
    parameters : pair of str or int, optional
        The parameters on the x and y axes; default the first two.
    values : dict, optional
        Values of the other parameters (name -> value); default
        ``med.parameters["value"]``.
    resolution : int or (int, int), default (32, 32)
        Grid points along x and y (a 1-D campaign uses the first).
    marker_size : float, default 8
        Size of the sample markers.
    path : str or Path, optional
        Also write the figure as a standalone HTML file here.
    **kwargs
        Layout options, e.g. ``title="..."``.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    ks = with_surrogate(med, response)
    resolution = check_resolution(resolution)
    one_d = len(med.parameter_names) == 1
    fixed = fixed_values(med, values)
    if one_d:
        if parameters is not None:
            axis_pair(med, parameters)          # explains that 2-D slices need 2 parameters
        xs, points = line_grid(med, resolution[0])
        pair, ys = (0, 0), None
    else:
        pair = axis_pair(med, parameters)
        xs, ys, points = slice_grid(med, pair, fixed, resolution)
    truth = None if f is None else _true_response(med, f, points, ks)
    columns = ["surrogate mean", "surrogate uncertainty (std)"] + (["true response"] if f is not None else [])
    names = [med.names[k] for k in ks]
    fig = make_subplots(
        rows=len(ks), cols=len(columns), horizontal_spacing=0.12 if not one_d else 0.08,
        vertical_spacing=min(0.12, 0.3 / len(ks)),
        subplot_titles=[f"{n}: {c}" for n in names for c in columns],
    )
    groups = [g for g in sample_groups(med, colors) if len(g.points)]
    for row, k in enumerate(ks, start=1):
        mean, std = med.predict(points, response=k, return_std=True)
        panels = [mean, std] + ([truth[:, row - 1]] if truth is not None else [])
        if one_d:
            add_curves(fig, row, xs, panels)
        else:
            _response_maps(fig, row, xs, ys, panels)
        _overlay_samples(fig, med, row, len(columns), groups, pair, k, marker_size,
                         first=row == 1, one_d=one_d)
    _response_axes(fig, med, ks, len(columns), pair, one_d)
    fig.update_layout(height=max(420, 360 * len(ks)), width=None,
                      legend={"title": {"text": "samples"}, "y": -0.08, "orientation": "h"},
                      title=_slice_title(med, pair, fixed, one_d))
    return finish(fig, path, **kwargs)


def _slice_title(med, pair, fixed, one_d: bool) -> str:
    if one_d:
        return f"response to {med.parameter_names[0]}"
    others = [f"{n} = {fixed[k]:.4g}" for k, n in enumerate(med.parameter_names)
              if k not in pair]
    pair_names = f"{med.parameter_names[pair[0]]} and {med.parameter_names[pair[1]]}"
    return f"response to {pair_names}" + (" at " + ", ".join(others) if others else "")


def _true_response(med, f, points: np.ndarray, ks: list[int]) -> np.ndarray:
    """``f`` on every grid point, as ``(n, len(ks))`` columns aligned with ``ks``."""
    if not callable(f):
        raise TypeError(f"f must be a function f(sample) -> response; got {f!r}.")
    outcomes = [resp.Outcome(value=f(point.copy())) for point in points]
    values, keys = resp.outcomes_to_array(outcomes)
    if keys is not None:
        missing = [med.names[k] for k in ks if med.names[k] not in keys]
        if missing:
            raise ValueError(f"f returned the keys {keys}, missing the response(s) {missing}.")
        return values[:, [keys.index(med.names[k]) for k in ks]]
    if values.shape[1] == len(med.names):
        return values[:, ks]
    if values.shape[1] == 1 and len(ks) == 1:
        return values
    raise ValueError(
        f"f returned {values.shape[1]} value(s) per sample; expected one per response "
        f"({len(med.names)}: {med.names}) or a single value when plotting one response."
    )


def _response_maps(fig, row, xs, ys, panels) -> None:
    nx, ny = len(xs), len(ys)
    shared = [p for c, p in enumerate(panels) if c != 1]
    zmin = float(min(np.nanmin(p) for p in shared))
    zmax = float(max(np.nanmax(p) for p in shared))
    for col, values in enumerate(panels, start=1):
        is_std = col == 2
        bar = colorbar_for(fig, row, col)
        fig.add_trace(go.Heatmap(
            x=xs, y=ys, z=np.asarray(values).reshape(ny, nx),
            colorscale=STD_SCALE if is_std else MEAN_SCALE, colorbar=bar,
            zmin=None if is_std else zmin, zmax=None if is_std else zmax,
            name="std" if is_std else ("mean" if col == 1 else "true"),
            hovertemplate="%{x:.4g}, %{y:.4g}: %{z:.5g}<extra></extra>",
        ), row=row, col=col)


def _overlay_samples(fig, med, row, n_cols, groups, pair, k, size, first, one_d) -> None:
    """Samples on every panel (1-D: on the response panels, at their value)."""
    for col in range(1, n_cols + 1):
        if one_d and col == 2:
            continue
        for group in groups:
            if one_d:
                if group.responses is None:
                    continue
                x, y = group.points[:, 0], group.responses[:, k]
            else:
                x, y = group.points[:, pair[0]], group.points[:, pair[1]]
            fig.add_trace(go.Scatter(
                x=x, y=y, mode="markers", name=group.name, legendgroup=group.name,
                showlegend=first and col == 1, marker=marker(group, size),
                text=hover_text(group, med.names),
            ), row=row, col=col)


def _response_axes(fig, med, ks, n_cols, pair, one_d) -> None:
    names = parameter_labels(med)
    low, high = med.parameters["min"].to_numpy(float), med.parameters["max"].to_numpy(float)
    x_axis = axis_scale(med, pair[0], low[pair[0]], high[pair[0]])
    y_axis = axis_scale(med, pair[1], low[pair[1]], high[pair[1]])
    for row, k in enumerate(ks, start=1):
        for col in range(1, n_cols + 1):
            fig.update_xaxes(title_text=names[pair[0]], **x_axis, row=row, col=col)
            if one_d:
                label = f"std({response_label(med, k)})" if col == 2 else response_label(med, k)
                fig.update_yaxes(title_text=label, row=row, col=col)
            else:
                fig.update_yaxes(title_text=names[pair[1]], **y_axis, row=row, col=col)
