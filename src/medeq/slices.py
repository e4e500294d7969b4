"""Interactive 2-D slices of a surrogate, for any number of parameters.

Two parameters span the heat maps of the surrogate's mean and uncertainty;
every other parameter gets a slider. The slices are computed here, in
Python, and stored in the slider steps, so the figure is interactive in
Jupyter and in a standalone HTML file alike, with no server and no network.

Each slider explores its parameter *one at a time* around the reference
point (``values``, default ``med.parameters["value"]``): moving a slider
sets that parameter and returns the other sliders to their reference
positions, so the slice drawn is always exactly the one the sliders show.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import _figures as figures
from .parameters import spaced_values, to_unit

#: Vertical room taken by one slider, in pixels.
SLIDER_HEIGHT = 95
#: Height of the plotting area, in pixels.
PLOT_HEIGHT = 360


def plot_gp(med, response=0, resolution=(32, 32), verbose: bool = True, parameters=None,
            values=None, steps: int = 9, near: float = 0.25, colors=None,
            marker_size: float = 9, path=None, **kwargs) -> go.Figure:
    """Interactive 2-D slices of the surrogate's mean and uncertainty.

    Parameters
    ----------
    med : medeq.MED
        A campaign with a fitted surrogate (at least 2 results).
    response : str or int, default 0
        The response to draw.
    resolution : int or (int, int), default (32, 32)
        Grid points along the x and y axes.
    verbose : bool, default True
        Print a one-line summary of the slices computed.
    parameters : pair of str or int, optional
        The parameters on the x and y axes; default the first two.
    values : dict, optional
        Reference values of the other parameters (name -> value), where the
        sliders start; default ``med.parameters["value"]``.
    steps : int, default 9
        Slider positions per parameter, evenly spaced over its bounds in its
        scale (plus the reference value); an integer parameter steps
        through integers (every one when it has at most ``steps``).
    near : float, default 0.25
        Samples whose root-mean-square distance to the slice, over the
        slider parameters in the unit cube, is at most ``near`` are drawn;
        the closer, the more opaque.
    colors : str or list[str], optional
        Epoch colours, as in :func:`medeq.plots.plot_samples`.
    marker_size : float, default 9
        Size of the sample markers.
    path : str or Path, optional
        Also write a standalone HTML file here.
    **kwargs
        Layout options, e.g. ``title="..."``.

    Returns
    -------
    plotly.graph_objects.Figure
        Heat maps of the mean (left) and standard deviation (right), one
        slider per other parameter. A 1-parameter campaign gives curves.

    Examples
    --------
    >>> fig = med.plot_gp(response="y", parameters=("A", "C"), path="slices.html")
    """
    if response is None:
        raise ValueError("plot_gp draws one response: give response=<name or index>.")
    k = figures.with_surrogate(med, response)[0]
    resolution = figures.check_resolution(resolution)
    if int(steps) != steps or steps < 2:
        raise ValueError(f"steps must be an integer >= 2 (slider positions); got {steps!r}.")
    if not np.isfinite(near) or near <= 0:
        raise ValueError(f"near must be a positive distance in the unit cube; got {near!r}.")
    groups = [g for g in figures.sample_groups(med, colors) if len(g.points)]
    if len(med.parameter_names) == 1:
        fig = _curves(med, k, resolution[0], groups, marker_size)
    else:
        pair = figures.axis_pair(med, parameters)
        fig = _SliceFigure(med, k, pair, figures.fixed_values(med, values),
                           resolution, int(steps), float(near), groups, marker_size).build()
        if verbose and fig.layout.sliders:
            total = sum(len(s.steps) for s in fig.layout.sliders)
            print(f"plot_gp: {total} slices of {med.names[k]!r} over "
                  f"{fig.layout.xaxis.title.text} x {fig.layout.yaxis.title.text}, "
                  f"{len(fig.layout.sliders)} slider(s).")
    return figures.finish(fig, path, **kwargs)


class _SliceFigure:
    """Builds the heat maps, the sample overlays and one slider per other parameter."""

    def __init__(self, med, k, pair, reference, resolution, steps, near, groups, size):
        self.med, self.k, self.pair = med, k, pair
        self.reference, self.resolution = reference, resolution
        self.near, self.groups, self.size = near, groups, size
        self.others = [j for j in range(len(med.parameter_names)) if j not in pair]
        self.positions = {
            j: np.unique(np.append(spaced_values(med.parameters, j, steps), reference[j]))
            for j in self.others
        }

    def build(self) -> go.Figure:
        fixed = [self.reference] + [self._moved(j, v) for j in self.others
                                    for v in self.positions[j]]
        means, stds = self._predict(fixed)
        zmin, zmax = float(np.nanmin(means)), float(np.nanmax(means))
        smax = float(np.nanmax(stds))
        name = self.med.names[self.k]
        fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.14,
                            subplot_titles=[f"{name}: surrogate mean",
                                            f"{name}: surrogate uncertainty (std)"])
        xs, ys = self.axes_values()
        for col, (z, scale, low, high) in enumerate(
            [(means[0], figures.MEAN_SCALE, zmin, zmax), (stds[0], figures.STD_SCALE, 0.0, smax)],
            start=1,
        ):
            fig.add_trace(go.Heatmap(
                x=xs, y=ys, z=figures.rounded(z), colorscale=scale, zmin=low, zmax=high,
                colorbar=figures.colorbar_for(fig, 1, col), name="mean" if col == 1 else "std",
                hovertemplate="%{x:.4g}, %{y:.4g}: %{z:.5g}<extra></extra>",
            ), row=1, col=col)
        overlay = self._overlay(self.reference)
        for g, group in enumerate(self.groups):
            for col in (1, 2):
                fig.add_trace(go.Scatter(
                    x=overlay["x"][g], y=overlay["y"][g], text=overlay["text"][g],
                    mode="markers", name=group.name, legendgroup=group.name,
                    showlegend=col == 1,
                    marker=figures.marker(group, self.size, opacity=overlay["marker.opacity"][g]),
                ), row=1, col=col)
        sliders = self._sliders(means[1:], stds[1:])
        names = figures.parameter_labels(self.med)
        low = self.med.parameters["min"].to_numpy(float)
        high = self.med.parameters["max"].to_numpy(float)
        i, j = self.pair
        fig.update_xaxes(title_text=names[i], **figures.axis_scale(self.med, i, low[i], high[i]))
        fig.update_yaxes(title_text=names[j], **figures.axis_scale(self.med, j, low[j], high[j]))
        n = len(sliders)
        fig.update_layout(
            title=self.title(self.reference), sliders=sliders,
            height=110 + PLOT_HEIGHT + 70 + SLIDER_HEIGHT * n,
            margin={"t": 110, "b": 70 + SLIDER_HEIGHT * n},
            legend={"title": {"text": "samples near the slice:"}, "orientation": "h",
                    "x": 1.0, "xanchor": "right", "y": 1.12, "yanchor": "bottom"},
        )
        return fig

    def axes_values(self):
        xs, ys, _ = figures.slice_grid(self.med, self.pair, self.reference, self.resolution)
        return xs, ys

    def _moved(self, j: int, value: float) -> np.ndarray:
        fixed = self.reference.copy()
        fixed[j] = value
        return fixed

    def _predict(self, fixed: list[np.ndarray]):
        xs, ys = self.axes_values()
        nx, ny = len(xs), len(ys)
        points = np.vstack([figures.slice_grid(self.med, self.pair, f, self.resolution)[2]
                            for f in fixed])
        mean, std = self.med.predict(points, response=self.k, return_std=True)
        return mean.reshape(len(fixed), ny, nx), std.reshape(len(fixed), ny, nx)

    def title(self, fixed: np.ndarray) -> str:
        names = self.med.parameter_names
        where = ", ".join(f"{names[j]} = {fixed[j]:.4g}" for j in self.others)
        return f"{self.med.names[self.k]}" + (f": slice at {where}" if where else "")

    def _overlay(self, fixed: np.ndarray) -> dict:
        """Per sample group: the samples near the slice ``fixed``, for restyling."""
        out = {"x": [], "y": [], "text": [], "marker.opacity": []}
        i, j = self.pair
        for group in self.groups:
            if self.others:
                unit = to_unit(group.points, self.med.parameters)[:, self.others]
                target = to_unit(fixed[None, :], self.med.parameters)[:, self.others]
                distance = np.sqrt(np.mean((unit - target) ** 2, axis=1))
            else:
                distance = np.zeros(len(group.points))
            keep = distance <= self.near
            labels = np.array(figures.hover_text(group, self.med.names))[keep]
            text = [f"{t}<br>distance to slice {d:.3f}" for t, d in zip(labels, distance[keep])]
            out["x"].append(figures.rounded(group.points[keep, i]))
            out["y"].append(figures.rounded(group.points[keep, j]))
            out["text"].append(text)
            out["marker.opacity"].append(figures.rounded(1.0 - 0.7 * distance[keep] / self.near, 3))
        return out

    def _sliders(self, means, stds) -> list[dict]:
        xs, ys = self.axes_values()
        names = self.med.parameter_names
        home = {j: int(np.argmin(np.abs(self.positions[j] - self.reference[j])))
                for j in self.others}
        sliders, slice_index = [], 0
        for s, j in enumerate(self.others):
            steps = []
            for value in self.positions[j]:
                fixed = self._moved(j, value)
                overlay = self._overlay(fixed)
                n_scatter = 2 * len(self.groups)
                data = {
                    "z": [figures.rounded(means[slice_index]), figures.rounded(stds[slice_index])]
                    + [None] * n_scatter,
                    "x": [xs.tolist(), xs.tolist()] + _twice(overlay["x"]),
                    "y": [ys.tolist(), ys.tolist()] + _twice(overlay["y"]),
                    "text": [None, None] + _twice(overlay["text"]),
                    "marker.opacity": [None, None] + _twice(overlay["marker.opacity"]),
                }
                layout = {f"sliders[{t}].active": home[o]
                          for t, o in enumerate(self.others) if o != j}
                layout["title.text"] = self.title(fixed)
                steps.append({"method": "update", "label": f"{value:.4g}",
                              "args": [data, layout], "value": f"{value:.6g}"})
                slice_index += 1
            sliders.append({
                "active": home[j], "steps": steps, "name": names[j],
                "currentvalue": {"prefix": f"{names[j]} = ", "font": {"size": 13}},
                "x": 0.0, "len": 1.0, "xanchor": "left",
                "y": -(70 + SLIDER_HEIGHT * s) / PLOT_HEIGHT, "yanchor": "top",
                "pad": {"t": 10, "b": 10},
            })
        return sliders


def _twice(per_group: list) -> list:
    """Each group's value for its two traces (mean panel, std panel)."""
    return [value for value in per_group for _ in range(2)]


def _curves(med, k: int, n: int, groups, size) -> go.Figure:
    """1-parameter campaign: mean with a 2-std band, and the std, as curves."""
    xs, points = figures.line_grid(med, n)
    mean, std = med.predict(points, response=k, return_std=True)
    name = med.names[k]
    fig = make_subplots(rows=1, cols=2, subplot_titles=[f"{name}: surrogate mean",
                                                        f"{name}: surrogate uncertainty (std)"])
    figures.add_curves(fig, 1, xs, [mean, std])
    for group in groups:
        if group.responses is not None:
            fig.add_trace(go.Scatter(
                x=group.points[:, 0], y=group.responses[:, k], mode="markers", name=group.name,
                marker=figures.marker(group, size), text=figures.hover_text(group, med.names),
            ), row=1, col=1)
    parameter = med.parameter_names[0]
    low, high = float(med.parameters["min"].iloc[0]), float(med.parameters["max"].iloc[0])
    fig.update_xaxes(title_text=figures.parameter_labels(med)[0],
                     **figures.axis_scale(med, 0, low, high))
    fig.update_yaxes(title_text=figures.response_label(med, k), row=1, col=1)
    fig.update_yaxes(title_text=f"std({figures.response_label(med, k)})", row=1, col=2)
    fig.update_layout(title=f"{name} over {parameter}", height=450)
    return fig
