"""The shipped examples and the reference's discovery call run as written."""

import subprocess
import sys
from pathlib import Path

import sympy as sp
from conftest import instrument

import medeq

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_quickstart_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Hall of Fame" in done.stdout
    assert (tmp_path / "med_quickstart" / "setup.toml").is_file()
    assert (tmp_path / "equations.csv").is_file()


def test_reference_discover_call(med):
    """``med.discover(binary_operators=["+", "*"])`` exactly as the reference writes it."""
    med.sample(12)
    med.evaluate(instrument)
    hall_of_fame = med.discover(binary_operators=["+", "*"])
    A, B = sp.symbols("A B")
    assert any(sp.simplify(eq.sympy - (A + B)) == 0 for eq in hall_of_fame)
    assert list(hall_of_fame.frame.columns[:4]) == ["complexity", "loss", "score", "equation"]
    assert med.sr["response"] is hall_of_fame
    assert isinstance(hall_of_fame.best, medeq.discovery.Equation)
