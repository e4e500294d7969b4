"""medeq.parameters: creation, validation, scaling."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import medeq
from medeq.parameters import as_points, from_unit, to_unit, validate_parameters


def test_reference_example():
    parameters = medeq.create_parameters(["A", "B"], minimums=[-5.0, -5.0], maximums=[10.0, 10.0])
    assert list(parameters.index) == ["A", "B"]
    assert list(parameters.columns) == ["value", "min", "max"]
    assert parameters.loc["A", "value"] == 2.5
    assert str(parameters).splitlines()[1].split() == ["A", "2.5", "-5.0", "10.0"]


def test_values_and_extra_columns():
    parameters = medeq.create_parameters(
        ["m", "g"], [1.0, 9.0], [5.0, 10.0], values=[2.0, 9.81], units=["kg", "m/s^2"]
    )
    assert parameters.loc["g", "value"] == 9.81
    assert list(parameters["units"]) == ["kg", "m/s^2"]


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((["A", "B"], [0.0], [1.0, 1.0]), {}, "min must have one entry per variable"),
        ((["A"], [0.0], [1.0, 2.0]), {}, "max must have one entry"),
        ((["A"], [1.0], [1.0]), {}, "min >= max"),
        ((["A"], [2.0], [1.0]), {}, "min >= max"),
        ((["A"], [-np.inf], [1.0]), {}, "non-finite bounds"),
        ((["A"], [np.nan], [1.0]), {}, "non-finite bounds"),
        ((["A", "A"], [0.0, 0.0], [1.0, 1.0]), {}, "unique"),
        (([""], [0.0], [1.0]), {}, "non-empty"),
        ((["A"], [0.0], [1.0]), {"values": [2.0]}, "outside its bounds"),
        ((["A"], [0.0], [1.0]), {"units": ["m", "s"]}, "units must have one entry"),
        ((["A"], ["x"], [1.0]), {}, "minimums must be numbers"),
        (("A", [0.0], [1.0]), {}, "single string"),
        (([], [], []), {}, "at least one free parameter"),
    ],
)
def test_errors(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        medeq.create_parameters(*args, **kwargs)


def test_validate_rejects_non_dataframe_and_missing_columns():
    with pytest.raises(TypeError, match="DataFrame"):
        validate_parameters([[0, 1]])
    with pytest.raises(ValueError, match="missing the column"):
        validate_parameters(pd.DataFrame({"min": [0.0]}, index=["A"]))


def test_validate_fills_value_and_orders_columns():
    frame = pd.DataFrame({"max": [4.0], "units": ["m"], "min": [0.0]}, index=["A"])
    clean = validate_parameters(frame)
    assert list(clean.columns) == ["value", "min", "max", "units"]
    assert clean.loc["A", "value"] == 2.0


def test_as_points_shapes(parameters):
    assert as_points([1.0, 2.0], parameters).shape == (1, 2)
    assert as_points(np.zeros((3, 2)), parameters).shape == (3, 2)
    frame = pd.DataFrame({"B": [1.0], "A": [2.0]})
    np.testing.assert_array_equal(as_points(frame, parameters), [[2.0, 1.0]])
    with pytest.raises(ValueError, match=r"shaped \(n, 2\)"):
        as_points(np.zeros((3, 3)), parameters)
    with pytest.raises(ValueError, match="missing the parameter"):
        as_points(pd.DataFrame({"A": [1.0]}), parameters)
    with pytest.raises(ValueError, match="non-finite"):
        as_points([[np.nan, 1.0]], parameters)


bounds_strategy = st.lists(
    st.tuples(
        st.floats(-1e6, 1e6, allow_nan=False), st.floats(1e-3, 1e6, allow_nan=False)
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(bounds=bounds_strategy, data=st.data())
def test_scaling_round_trip(bounds, data):
    lows = [b[0] for b in bounds]
    highs = [b[0] + b[1] for b in bounds]
    parameters = medeq.create_parameters([f"p{i}" for i in range(len(bounds))], lows, highs)
    unit = data.draw(arrays(float, (5, len(bounds)), elements=st.floats(0, 1)))
    real = from_unit(unit, parameters)
    assert np.all(real >= np.array(lows) - 1e-9 * np.abs(lows).max() - 1e-9)
    assert np.all(real <= np.array(highs) + 1e-9 * np.abs(highs).max() + 1e-9)
    np.testing.assert_allclose(to_unit(real, parameters), unit, atol=1e-6)
