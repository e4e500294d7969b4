"""Equation discovery (symbolic regression) behind one small interface.

- :func:`discover_campaign` / :func:`resolve_equation`: what ``MED`` calls;
- :func:`discover_arrays`: the same on plain arrays;
- :class:`Equation`, :class:`HallOfFame`: the results;
- :mod:`.backends`: the engine interface (``operon`` default, ``pysr`` optional).
"""

from .backends import Backend, SearchSettings, available_backends, get_backend, register
from .campaign import discover_campaign, resolve_equation
from .engine import discover_arrays
from .equations import Equation, HallOfFame

__all__ = [
    "Backend", "Equation", "HallOfFame", "SearchSettings", "available_backends",
    "discover_arrays", "discover_campaign", "get_backend", "register", "resolve_equation",
]
