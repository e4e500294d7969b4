"""Example simulation scripts shipped with medeq, and the demo that explores one.

``stokes_drag.py``
    Drag on a sphere in Stokes flow (parameters ``mu`` [Pa s], ``R`` [mm],
    ``v`` [mm/s]; response ``F`` [uN]): the simulation integrates the surface
    traction of the Stokes flow field, and the law behind it is
    ``F = 6 pi mu R v``. ``medeq demo`` (or :func:`run_demo`) explores it
    and rediscovers that law, with dimensional analysis.

Examples
--------
>>> from medeq.examples import example_path
>>> example_path("stokes_drag.py").name
'stokes_drag.py'
"""

from __future__ import annotations

import math
import os
import shutil
from importlib import resources
from pathlib import Path

import numpy as np

#: The demo's simulation script and the operators its law needs.
DEMO_SCRIPT = "stokes_drag.py"
DEMO_OPERATORS = ["+", "-", "*", "/"]
#: The demo's response: the drag force, in micronewtons.
DEMO_RESPONSE, DEMO_RESPONSE_UNIT = "F", "uN"
#: Largest relative difference between discovered and true law that counts as a match.
MATCH_TOLERANCE = 1e-3


def example_path(name: str) -> Path:
    """Path of a shipped example script (``FileNotFoundError`` naming the choices)."""
    path = Path(str(resources.files(__name__) / name))
    if not path.is_file():
        shipped = sorted(p.name for p in path.parent.glob("*.py") if p.name != "__init__.py")
        raise FileNotFoundError(f"no example {name!r}; the shipped examples are {shipped}.")
    return path


def stokes_law(points) -> np.ndarray:
    """Stokes' drag ``6 pi mu R v`` (micronewtons) at rows ``(mu, R, v)`` of ``points``."""
    points = np.asarray(points, float).reshape(-1, 3)
    return 6 * np.pi * points[:, 0] * points[:, 1] * points[:, 2]


def run_demo(directory, budget: int = 24, workers: int | None = None,
             discover_seconds: float = 10.0, seed: int | None = None, verbose: int = 1):
    """Explore ``stokes_drag.py`` in ``directory`` and discover its law.

    Copies the script to ``directory``, explores it with parallel local jobs
    (``workers``, default all cores) for ``budget`` evaluations, then
    discovers equations with ``+ - * /`` for ``discover_seconds``.

    Returns
    -------
    (MED, ExplorationResult)
        The campaign (saved in ``directory``) and the exploration summary.
    """
    from ..med import MED
    from ..schedulers import LocalScheduler

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / DEMO_SCRIPT
    shutil.copyfile(example_path(DEMO_SCRIPT), script)
    workers = workers or os.cpu_count() or 1
    med = MED(script, response_names=[DEMO_RESPONSE], scheduler=LocalScheduler(max_workers=workers),
              seed=seed, verbose=verbose, response_units=[DEMO_RESPONSE_UNIT])
    if verbose:
        print(f"medeq demo: drag on a sphere in Stokes flow ({script})\n"
              f"  parameters: viscosity mu [Pa s], radius R [mm], speed v [mm/s]; "
              f"response: drag F [{DEMO_RESPONSE_UNIT}]\n"
              f"  {budget} simulations, adaptively sampled, {workers} in parallel; "
              f"seed {med.seed}\n", flush=True)
    batch = workers * max(1, math.ceil(min(8, budget) / workers))
    result = med.explore(
        budget=budget, batch=batch, discover=True, directory=directory, verbose=verbose,
        discover_options={"binary_operators": DEMO_OPERATORS,
                          "timeout_in_seconds": discover_seconds},
    )
    return med, result


def dimensional_groups(med) -> str:
    """The dimensional analysis of the demo's campaign, as text: its
    dimensionless groups and the form of the law."""
    from ..discovery.units import analyse
    from ..parameters import parameter_units

    analysis = analyse(med.parameter_names, parameter_units(med.parameters),
                       med.response_units[DEMO_RESPONSE])
    return analysis.describe(DEMO_RESPONSE)


def law_difference(med) -> float:
    """Largest relative difference between the best discovered equation and Stokes' law
    over the campaign's evaluated samples."""
    best = med.sr[med.names[0]].best
    stokes = stokes_law(med.evaluated)
    found = np.asarray(best.evaluate(med.evaluated), float)
    return float(np.max(np.abs(found - stokes) / np.abs(stokes)))
