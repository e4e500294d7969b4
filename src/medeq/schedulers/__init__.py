"""Schedulers: run simulation jobs on local processes, SLURM or Dask.

Every scheduler implements the small :class:`Scheduler` interface
(``run_jobs``; ``map`` for Python functions comes with it), so users can
plug in their own engine.
"""

from .base import Job, JobStatus, Scheduler
from .dask_scheduler import DaskScheduler
from .local import LocalScheduler
from .slurm import SlurmScheduler

#: Built-in schedulers by class name, for rebuilding a saved campaign's scheduler.
BUILTIN_SCHEDULERS = {cls.__name__: cls for cls in (LocalScheduler, SlurmScheduler, DaskScheduler)}

__all__ = ["Scheduler", "Job", "JobStatus", "LocalScheduler", "SlurmScheduler", "DaskScheduler",
           "BUILTIN_SCHEDULERS"]
