"""medeq: autonomously explore system responses and discover the laws behind them.

>>> import medeq
>>> parameters = medeq.create_parameters(["A", "B"], [-5., -5.], [10., 10.])
>>> med = medeq.MED(parameters, seed=42)
>>> samples = med.sample(5)
>>> med.evaluate(lambda x: x[0] + x[1])
"""

__version__ = "0.1.0"

from .parameters import create_parameters

# Everything else is imported on first use, so that `medeq --help` and
# simulation scripts doing `import medeq` start quickly (scipy, scikit-learn
# and dask are heavy).
_LAZY = {
    "MED": "med",
    **dict.fromkeys(
        ["sampler", "Sampler", "RandomSampler", "LatinSampler", "SobolSampler",
         "LatticeSampler", "DVASampler"],
        "samplers",
    ),
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
