"""The small interface every symbolic-regression engine implements.

A backend turns a data set into candidate expressions; everything after that
(refitting, simplification, the hall of fame) is shared. To add an engine,
write one module with a :class:`Backend` subclass decorated with
:func:`register` and import it in :func:`get_backend`'s list.

Example::

    @register
    class Constant(Backend):
        name = "constant"
        binary_operators = {"+": "+"}
        unary_operators = {}

        def search(self, X, y, symbols, settings):
            return [sympy.Float(y.mean())]
"""

from __future__ import annotations

import importlib
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import sympy

#: Modules that define the built-in backends (imported on first use).
BUILTIN_MODULES = ("medeq.discovery.operon", "medeq.discovery.pysr")

_REGISTRY: dict[str, type[Backend]] = {}


@dataclass
class SearchSettings:
    """Search settings shared by all backends (see ``MED.discover``).

    ``options`` holds the backend-specific keyword arguments; a backend
    must consume or reject every one of them. ``parsimony``,
    ``constraints`` and ``nested_constraints`` are also applied to the
    results by the engine, whatever the backend does with them.
    """

    binary_operators: list[str] = field(default_factory=lambda: ["+", "-", "*", "/", "^"])
    unary_operators: list[str] = field(default_factory=list)
    maxsize: int = 50
    maxdepth: int | None = None
    niterations: int = 100
    populations: int = 32
    turbo: bool = True
    progress: bool = False
    timeout: float | None = 60.0
    seed: int | None = None
    parsimony: float = 0.0032
    constraints: dict | None = None
    nested_constraints: dict | None = None
    options: dict[str, Any] = field(default_factory=dict)
    #: Early stop: called with the search's current front as (expression,
    #: mean squared error on the data the backend was given) pairs, returns
    #: the complexity of the simplest equation at the noise floor (``None``:
    #: none is); the search may end once that stops getting simpler (see
    #: ``discover_arrays``). Called with an empty front before the search, it
    #: returns the complexity of an equation already known exactly (``None``:
    #: none is), which the search's first check may confirm.
    stop: Callable[[Sequence[tuple[sympy.Expr, float]]], int | None] | None = None

    def share_left(self, share: float, started: float) -> "SearchSettings":
        """These settings with what is left of ``share`` of the time budget
        (counted from the monotonic time ``started``; at least a second);
        unchanged without a budget."""
        if self.timeout is None:
            return self
        left = share * self.timeout - (time.monotonic() - started)
        return replace(self, timeout=max(1.0, left))


class Backend(ABC):
    """A symbolic-regression engine.

    Class attributes ``binary_operators`` / ``unary_operators`` map the
    operator names users may write (PySR's: ``+ - * / ^``, ``sin``, ...) to
    the engine's own names.
    """

    name: ClassVar[str]
    binary_operators: ClassVar[dict[str, str]]
    unary_operators: ClassVar[dict[str, str]]

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Why the engine cannot run here (``None`` if it can)."""
        return None

    def map_operators(self, binary: Sequence[str], unary: Sequence[str]) -> list[str]:
        """Engine names of the requested operators.

        Raises
        ------
        ValueError
            An operator the engine does not support, listing those it does.
        """
        mapped = []
        for kind, requested, table in (
            ("binary", binary, self.binary_operators),
            ("unary", unary, self.unary_operators),
        ):
            if isinstance(requested, str):
                raise ValueError(
                    f"{kind}_operators must be a list of names, got the string {requested!r}; "
                    f"use [{requested!r}]."
                )
            for op in requested:
                key = str(op).strip()
                if key not in table:
                    raise ValueError(
                        f"the {self.name!r} backend does not support the {kind} operator {op!r}; "
                        f"supported {kind} operators: {sorted(table)}."
                    )
                if table[key] not in mapped:
                    mapped.append(table[key])
        return mapped

    def validate(self, settings: SearchSettings) -> None:
        """Raise ``ValueError`` for settings the engine cannot honour (before any work)."""
        self.map_operators(settings.binary_operators, settings.unary_operators)

    @abstractmethod
    def search(
        self,
        X: np.ndarray,
        y: np.ndarray,
        symbols: Sequence[sympy.Symbol],
        settings: SearchSettings,
    ) -> list[sympy.Expr]:
        """Candidate expressions in ``symbols`` (one per column of ``X``) for ``y``.

        Return at least the engine's accuracy/complexity Pareto front;
        constants may be approximate (they are refitted afterwards).
        """


def register(cls: type[Backend]) -> type[Backend]:
    """Class decorator adding a backend to the registry under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def available_backends() -> dict[str, str | None]:
    """All registered backends and why each cannot run (``None`` = usable)."""
    _load_builtins()
    return {name: cls.unavailable_reason() for name, cls in sorted(_REGISTRY.items())}


def get_backend(name: str) -> Backend:
    """Instantiate the backend called ``name``.

    Raises
    ------
    ValueError
        Unknown name (lists the known ones).
    RuntimeError
        The engine is not installed here (says what to install).
    """
    _load_builtins()
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown discovery backend {name!r}; choose one of {sorted(_REGISTRY)}.")
    cls = _REGISTRY[name]
    reason = cls.unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"the {name!r} discovery backend cannot run here: {reason}")
    return cls()


def _load_builtins() -> None:
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
