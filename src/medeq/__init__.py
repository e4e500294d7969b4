"""medeq: autonomously explore system responses and discover the laws behind them.

>>> import medeq
>>> parameters = medeq.create_parameters(["A", "B"], [-5., -5.], [10., 10.])
>>> med = medeq.MED(parameters, seed=42)
>>> samples = med.sample(5)
>>> med.evaluate(lambda x: x[0] + x[1])
"""

__version__ = "0.1.0"

from .med import MED
from .parameters import create_parameters
from .samplers import (
    DVASampler,
    LatinSampler,
    LatticeSampler,
    RandomSampler,
    Sampler,
    SobolSampler,
    sampler,
)

# Schedulers pull in heavier dependencies (dask): import them, and their
# companions, on first use.
_LAZY = {
    "Scheduler": "schedulers",
    "LocalScheduler": "schedulers",
    "SlurmScheduler": "schedulers",
    "DaskScheduler": "schedulers",
    "StoppingCondition": "stopping",
    "EvaluationBudget": "stopping",
    "UncertaintyTarget": "stopping",
    "TimeLimit": "stopping",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'medeq' has no attribute {name!r}")


__all__ = [
    "MED",
    "create_parameters",
    "sampler",
    "Sampler",
    "RandomSampler",
    "LatinSampler",
    "SobolSampler",
    "LatticeSampler",
    "DVASampler",
    *_LAZY,
]
