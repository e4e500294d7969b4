"""Figures as data: traces, axes, slider steps (no browser needed)."""

import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.offline import get_plotlyjs

import medeq
from medeq import plots

NAMES = list("ABCDEF")


def truth(x, k=1):
    """A smooth test response with ``k`` outputs: a number or a list of numbers."""
    base = float(np.sin(x[0]) + np.sum(np.asarray(x) ** 2))
    return base if k == 1 else [base + i * float(x[0]) for i in range(k)]


def campaign(d, k=1, epochs=2, n=8, augmented=True, queued=3, seed=5):
    """``epochs`` evaluated epochs of ``n`` samples, one augmented epoch, a queue."""
    parameters = medeq.create_parameters(NAMES[:d], [-1.0] * d, [2.0] * d)
    names = None if k == 1 else [f"y{i}" for i in range(k)]
    med = medeq.MED(parameters, response_names=names, seed=seed, verbose=0)
    for _ in range(epochs):
        med.sample(n)
        med.evaluate(lambda x: truth(x, k))
    if augmented:
        points = np.full((2, d), 0.5)
        points[1] = 1.5
        med.augment(points, np.array([truth(p, k) for p in points]).reshape(2, k))
    if queued:
        med.sample(queued)
    return med


@pytest.fixture(scope="module", params=[(1, 1), (2, 2), (3, 1), (6, 3)],
                ids=lambda p: f"d{p[0]}-k{p[1]}")
def med(request):
    d, k = request.param
    return campaign(d, k)


# ------------------------------------------------------------------ samples
def test_plot_samples_traces_per_epoch(med):
    d = len(med.parameter_names)
    fig = med.plot_samples(marker_size=7)
    kind = {1: go.Scatter, 2: go.Scatter, 3: go.Scatter3d}.get(d, go.Splom)
    assert all(isinstance(t, kind) for t in fig.data)
    assert [t.name for t in fig.data] == ["epoch 0", "epoch 1", "epoch 2 (augmented)", "queued (3)"]
    symbols = [t.marker.symbol for t in fig.data]
    assert symbols == ["circle", "circle", "diamond", "circle-open"]
    colors = [t.marker.color for t in fig.data]
    assert len(set(colors)) == 4
    if d == 3:
        assert fig.data[0].marker.size == pytest.approx(7 * 0.6)
    else:
        assert fig.data[0].marker.size == 7
    evaluated = med.evaluated
    first = fig.data[0]
    if d > 3:
        assert [dim.label for dim in first.dimensions] == NAMES[:d]
        assert np.allclose(first.dimensions[2].values, evaluated[:8, 2])
        assert first.showupperhalf is False
    elif d == 1:
        assert np.allclose(first.x, evaluated[:8, 0])
        assert set(first.y) == {"epoch 0"}
        assert fig.layout.xaxis.title.text == "A"
    else:
        assert np.allclose(first.x, evaluated[:8, 0]) and np.allclose(first.y, evaluated[:8, 1])
    assert np.allclose(np.asarray(fig.data[3].x if d < 4 else fig.data[3].dimensions[0].values,
                                  float), med.queue[:, 0])


def test_plot_samples_axes_named_and_bounded():
    fig = campaign(2).plot_samples()
    assert fig.layout.xaxis.title.text == "A" and fig.layout.yaxis.title.text == "B"
    low, high = fig.layout.xaxis.range
    assert low < -1 and high > 2
    fig3 = campaign(3).plot_samples()
    assert fig3.layout.scene.zaxis.title.text == "C"


def test_plot_samples_hover_shows_responses():
    med = campaign(2, k=2)
    fig = med.plot_samples()
    assert fig.data[0].text[0].startswith("y0 = ") and "y1 = " in fig.data[0].text[0]
    assert fig.data[-1].text[0] == "queued, not evaluated yet"


def test_plot_samples_custom_colors_cycle_and_layout_kwargs():
    fig = campaign(2).plot_samples(colors=["red", "blue"], title="mine", height=321)
    assert [t.marker.color for t in fig.data[:3]] == ["red", "blue", "red"]
    assert fig.layout.title.text == "mine" and fig.layout.height == 321
    with pytest.raises(TypeError, match="colors must be"):
        campaign(2).plot_samples(colors=[1, 2])


def test_plot_samples_empty_and_queue_only():
    parameters = medeq.create_parameters(["A", "B"], [0, 0], [1, 1])
    med = medeq.MED(parameters, seed=1, verbose=0)
    fig = med.plot_samples()
    assert len(fig.data) == 0 and "0 evaluated" in fig.layout.title.text
    med.sample(4)
    fig = med.plot_samples()
    assert [t.name for t in fig.data] == ["queued (4)"]


def test_plot_writes_standalone_html(tmp_path):
    path = campaign(2).plot_samples(path=tmp_path / "sub" / "samples.html")
    assert isinstance(path, go.Figure)
    text = (tmp_path / "sub" / "samples.html").read_text()
    assert "Plotly.newPlot" in text and "<script src=" not in text
    assert get_plotlyjs()[:200] in text             # plotly.js inlined: works offline
    with pytest.raises(ValueError, match=r"\.html"):
        campaign(2).plot_samples(path=tmp_path / "samples.png")


# ----------------------------------------------------------------- response
def test_plot_response_rows_columns_and_values(med):
    d, k = len(med.parameter_names), len(med.names)
    fig = med.plot_response(f=lambda x: truth(x, k), resolution=(9, 7))
    titles = [a.text for a in fig.layout.annotations]
    assert titles[:3] == [f"{med.names[0]}: surrogate mean",
                          f"{med.names[0]}: surrogate uncertainty (std)",
                          f"{med.names[0]}: true response"]
    assert len(titles) == 3 * k
    low, high = -1.0, 2.0
    if d == 1:
        means = [t for t in fig.data if t.name == "surrogate mean"]
        assert len(means) == k
        xs = np.linspace(low, high, 9)
        assert np.allclose(means[-1].y, med.predict(xs[:, None], response=k - 1, return_std=False))
        return
    maps = [t for t in fig.data if isinstance(t, go.Heatmap)]
    assert len(maps) == 3 * k
    assert np.shape(maps[0].z) == (7, 9)
    x0 = med.parameters["value"].to_numpy().copy()
    x0[0], x0[1] = low, high                       # z[-1][0]: x = min(A), y = max(B)
    mean, std = med.predict(x0, response=0)
    assert maps[0].z[-1][0] == pytest.approx(mean[0])
    assert maps[1].z[-1][0] == pytest.approx(std[0])
    assert maps[2].z[-1][0] == pytest.approx(np.atleast_1d(truth(x0, k))[0])
    # Samples overlaid, by epoch, on every panel; one legend entry per epoch.
    overlays = [t for t in fig.data if isinstance(t, go.Scatter)]
    assert len(overlays) == 4 * 3 * k
    assert sum(bool(t.showlegend) for t in overlays) == 4


def test_plot_response_chosen_pair_and_fixed_values():
    med = campaign(3, k=2)
    fig = med.plot_response(response="y1", parameters=("C", "A"), values={"B": 1.25},
                            resolution=5)
    assert len(fig.layout.annotations) == 2
    assert fig.layout.xaxis.title.text == "C" and fig.layout.yaxis.title.text == "A"
    assert "B = 1.25" in fig.layout.title.text
    heat = fig.data[0]
    point = np.array([-1.0, 1.25, 2.0])              # z[0][-1]: C = max, A = min
    assert heat.z[0][-1] == pytest.approx(med.predict(point, response="y1", return_std=False)[0])


def test_plot_response_errors():
    med = campaign(3)
    with pytest.raises(ValueError, match="unknown parameter 'Z'"):
        med.plot_response(parameters=("A", "Z"))
    with pytest.raises(ValueError, match="must differ"):
        med.plot_response(parameters=("A", "A"))
    with pytest.raises(ValueError, match="outside the bounds"):
        med.plot_response(values={"C": 5.0})
    with pytest.raises(ValueError, match="resolution"):
        med.plot_response(resolution=(1, 4))
    with pytest.raises(ValueError, match="at least 2 parameters"):
        campaign(1, epochs=1, augmented=False, queued=0).plot_response(parameters=("A", "B"))
    with pytest.raises(ValueError, match="one per response"):
        campaign(2, k=3).plot_response(f=lambda x: [1.0, 2.0])
    empty = medeq.MED(medeq.create_parameters(["A", "B"], [0, 0], [1, 1]), verbose=0)
    with pytest.raises(RuntimeError, match="no surrogate yet"):
        empty.plot_response()


def test_plot_response_dict_truth():
    med = campaign(2, k=2)
    fig = med.plot_response(f=lambda x: {"y1": 1.0, "y0": 0.0}, resolution=4)
    trues = [t for t in fig.data if isinstance(t, go.Heatmap) and t.name == "true"]
    assert np.allclose(trues[0].z, 0.0) and np.allclose(trues[1].z, 1.0)


# ----------------------------------------------------------------------- gp
def test_plot_gp_any_dimension(med, capsys):
    d = len(med.parameter_names)
    response = len(med.names) - 1
    fig = med.plot_gp(response=response, resolution=(6, 5), steps=4)
    name = med.names[response]
    assert [a.text for a in fig.layout.annotations][:2] == [
        f"{name}: surrogate mean", f"{name}: surrogate uncertainty (std)"]
    if d == 1:
        assert not fig.layout.sliders
        assert any(t.name == "surrogate std" for t in fig.data)
        return
    mean_map, std_map = fig.data[0], fig.data[1]
    assert isinstance(mean_map, go.Heatmap) and isinstance(std_map, go.Heatmap)
    assert np.shape(mean_map.z) == (5, 6)
    assert len(fig.layout.sliders) == d - 2
    assert [s.name for s in fig.layout.sliders] == NAMES[2:d]
    if d > 2:
        assert "slices of" in capsys.readouterr().out
    for slider in fig.layout.sliders:
        values = [float(step.value) for step in slider.steps]
        assert values[0] == -1.0 and values[-1] == 2.0 and 0.5 in values   # + reference
        assert values[slider.active] == 0.5


def test_plot_gp_slider_steps_hold_the_slices():
    med = campaign(4, k=2)
    fig = med.plot_gp(response="y1", resolution=(5, 4), steps=3, verbose=False)
    slider = fig.layout.sliders[1]                  # parameter D
    assert slider.name == "D"
    step = slider.steps[-1]                         # D = max
    data, layout = step.args
    assert step.method == "update"
    xs, ys = np.linspace(-1, 2, 5), np.linspace(-1, 2, 4)
    point = np.array([xs[2], ys[1], 0.5, 2.0])
    mean, std = med.predict(point, response="y1")
    assert data["z"][0][1][2] == pytest.approx(mean[0], rel=1e-5)
    assert data["z"][1][1][2] == pytest.approx(std[0], rel=1e-5)
    assert data["z"][0] != slider.steps[0].args[0]["z"][0]
    # Moving D returns C to its reference position; the title names the slice.
    assert layout["sliders[0].active"] == fig.layout.sliders[0].active
    assert "sliders[1].active" not in layout
    assert layout["title.text"].endswith("C = 0.5, D = 2")
    # One x/y/z entry per trace: 2 heat maps + 2 panels x 4 sample groups.
    assert len(data["x"]) == len(fig.data) == 2 + 2 * 4


def test_plot_gp_shows_samples_near_the_slice():
    med = campaign(4, augmented=True)
    fig = med.plot_gp(steps=3, near=0.05, verbose=False)
    augmented = [t for t in fig.data if t.name == "epoch 2 (augmented)"]
    # The augmented point (0.5, ...) lies on the reference slice; (1.5, ...) does not.
    assert [list(t.x) for t in augmented] == [[0.5], [0.5]]
    far = fig.layout.sliders[0].steps[0].args[0]    # C = -1: both points far away
    index = [i for i, t in enumerate(fig.data) if t.name == "epoch 2 (augmented)"][0]
    assert far["x"][index] == []
    assert "distance to slice" in augmented[0].text[0]


def test_plot_gp_errors_and_html(tmp_path):
    med = campaign(3)
    with pytest.raises(ValueError, match="steps"):
        med.plot_gp(steps=1)
    with pytest.raises(ValueError, match="near"):
        med.plot_gp(near=0)
    with pytest.raises(ValueError, match="unknown response"):
        med.plot_gp(response="nope")
    with pytest.raises(ValueError, match="one response"):
        med.plot_gp(response=None)
    queued = medeq.MED(medeq.create_parameters(["A", "B"], [0, 0], [1, 1]), verbose=0)
    queued.sample(2)
    with pytest.raises(RuntimeError, match="no surrogate yet"):
        queued.plot_gp()
    med.plot_gp(path=tmp_path / "gp.html", verbose=False)
    text = (tmp_path / "gp.html").read_text()
    assert "Plotly.newPlot" in text and "sliders" in text and "<script src=" not in text


def test_plot_gp_from_plots_module_is_the_facade():
    med = campaign(2)
    assert plots.plot_gp(med, verbose=False).to_dict()["data"][0]["type"] == "heatmap"
