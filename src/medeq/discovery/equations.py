"""Discovered equations: :class:`Equation` and the :class:`HallOfFame`.

An :class:`Equation` is a sympy expression in the campaign's parameter names
with its complexity (PySR-style node count), loss (mean squared error on the
data it was discovered from, weighted by the samples' precision when their
known noise variances differ) and score. A :class:`HallOfFame` is the list of
equations on the accuracy/complexity Pareto front, simplest first, as
``discover`` returns it.

Examples
--------
>>> hof = HallOfFame.from_frame(pd.DataFrame({
...     "complexity": [1, 3], "loss": [24.1, 0.0], "score": [0.0, 11.5],
...     "equation": ["4.1", "A + B"]}), ["A", "B"])
>>> hof.best.sympy
A + B
>>> hof.best([[1.0, 2.0]])
array([3.])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import sympy as sp

from .expressions import complexity as expression_complexity
from .expressions import make_function, parse, symbols_for, to_string
from .noise import NoiseFloor

#: Columns of :attr:`HallOfFame.frame` (and of ``equations.csv``).
COLUMNS = ("complexity", "loss", "score", "equation")
#: Optional column: whether the equation is at the noise floor of its data
#: (written when discovery measured it; see :mod:`medeq.discovery.noise`).
FLOOR_COLUMN = "at_noise_floor"

#: Losses below this fraction of the simplest equation's loss count as exact
#: (numerical noise) when scoring and choosing the best equation.
EXACT = 1e-10

#: An equation is eligible as ``best`` if its loss is within this factor of
#: the lowest loss (PySR's ``model_selection="best"`` rule).
BEST_LOSS_FACTOR = 1.5


class Equation:
    """One discovered equation.

    Parameters
    ----------
    expression : sympy.Expr or str
        The equation, in plain sympy symbols named after the parameters (a
        string is parsed with :func:`medeq.discovery.expressions.parse`).
    parameter_names : list[str]
        The parameters, in the column order of the arrays it is evaluated on.
    loss, score : float, optional
        Mean squared error on the discovery data (weighted by the samples'
        precision when their known noise variances differ), and the PySR score
        (``-d ln(loss) / d complexity`` against the previous equation of the
        hall of fame); NaN when unknown.
    complexity : int, optional
        Number of operators, variables and constants; computed if omitted.
    at_floor : bool, optional
        Whether its loss is statistically indistinguishable from the noise
        floor of the data (``None``: not measured).

    Attributes
    ----------
    sympy : sympy.Expr
        The expression.
    latex : str
        LaTeX of the expression.
    """

    def __init__(
        self,
        expression: sp.Expr | str,
        parameter_names: Sequence[str],
        loss: float = math.nan,
        score: float = math.nan,
        complexity: int | None = None,
        at_floor: bool | None = None,
    ):
        self.at_floor = None if at_floor is None else bool(at_floor)
        self.parameter_names = [str(n) for n in parameter_names]
        if isinstance(expression, str):
            expression = parse(expression, self.parameter_names)
        else:
            if isinstance(expression, (int, float)) and not isinstance(expression, bool):
                expression = sp.Float(expression) if isinstance(expression, float) else sp.Integer(expression)
            if not isinstance(expression, sp.Expr):
                raise TypeError(f"an equation must be a sympy expression or a string; got "
                                f"{type(expression).__name__}.")
            known = set(self.parameter_names)
            unknown = sorted(str(s) for s in expression.free_symbols if str(s) not in known)
            if unknown:
                raise ValueError(
                    f"equation {expression} uses {unknown}, which are not parameters "
                    f"{self.parameter_names}."
                )
            # Exactly what its text reads back to: plain symbols, floats of
            # ``DIGITS`` significant digits.
            expression = parse(to_string(expression, self.parameter_names), self.parameter_names)
        self.sympy: sp.Expr = expression
        self.loss = float(loss)
        self.score = float(score)
        self.complexity = int(expression_complexity(expression) if complexity is None else complexity)
        self._function = None

    @property
    def latex(self) -> str:
        return sp.latex(self.sympy)

    @property
    def symbols(self) -> list[sp.Symbol]:
        return symbols_for(self.parameter_names)

    def evaluate(self, X) -> np.ndarray:
        """Evaluate on ``X`` ((n, P) or (P,) real-unit values, parameter order) -> (n,)."""
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X[None, :]
        P = len(self.parameter_names)
        if X.ndim != 2 or X.shape[1] != P:
            raise ValueError(
                f"X must have shape (n, {P}) with columns {self.parameter_names}; "
                f"got shape {np.shape(X)}."
            )
        if self._function is None:
            self._function = make_function(self.sympy, self.symbols)
        return self._function(X)

    __call__ = evaluate

    def __str__(self) -> str:
        return to_string(self.sympy, self.parameter_names)

    def __repr__(self) -> str:
        return (
            f"Equation({str(self)!r}, complexity={self.complexity}, "
            f"loss={self.loss:.4g}, score={self.score:.4g})"
        )

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, Equation)
            and self.parameter_names == other.parameter_names
            and self.sympy == other.sympy
        )

    __hash__ = None


class HallOfFame(list):
    """Equations on the accuracy/complexity Pareto front, simplest first.

    A ``list`` of :class:`Equation`; ``.frame`` is the table of complexity,
    loss, score and equation (text in parameter names).

    When discovery measured the noise floor of the data (column
    ``at_noise_floor``), the ``best`` equation is the simplest one whose loss
    is statistically indistinguishable from that floor
    (:meth:`medeq.discovery.noise.NoiseFloor.reached`). Otherwise (or if no
    equation reaches the floor) it balances loss and complexity as PySR does: among
    the equations whose loss is within a factor 1.5 of the lowest loss (losses
    below ``1e-10`` times the simplest equation's loss count as exact), the one
    with the highest score, i.e. the largest drop in log-loss per unit of
    complexity; ties go to the simpler equation.
    """

    def __init__(self, equations: Sequence[Equation] = (), parameter_names: Sequence[str] | None = None):
        super().__init__(equations)
        if parameter_names is None:
            parameter_names = self[0].parameter_names if len(self) else []
        self.parameter_names = [str(n) for n in parameter_names]

    @property
    def frame(self) -> pd.DataFrame:
        return self.to_frame()

    def to_frame(self) -> pd.DataFrame:
        """DataFrame with columns complexity, loss, score, equation (one row
        each), and ``at_noise_floor`` when the floor was measured."""
        frame = pd.DataFrame(
            {
                "complexity": [e.complexity for e in self],
                "loss": [e.loss for e in self],
                "score": [e.score for e in self],
                "equation": [str(e) for e in self],
            },
            columns=list(COLUMNS),
        )
        if len(self) and all(e.at_floor is not None for e in self):
            frame[FLOOR_COLUMN] = [bool(e.at_floor) for e in self]
        return frame

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, parameter_names: Sequence[str]) -> HallOfFame:
        """Rebuild a hall of fame from :meth:`to_frame` output (e.g. a CSV)."""
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(
                f"an equations table needs the columns {list(COLUMNS)}; missing {missing}."
            )
        floor = frame[FLOOR_COLUMN] if FLOOR_COLUMN in frame.columns else None
        equations = [
            Equation(str(row["equation"]), parameter_names, loss=row["loss"],
                     score=row["score"], complexity=int(row["complexity"]),
                     at_floor=None if floor is None else read_flag(floor[i]))
            for i, row in frame.iterrows()
        ]
        return cls(equations, parameter_names)

    @property
    def best(self) -> Equation:
        if not len(self):
            raise ValueError("the hall of fame is empty: there is no best equation.")
        at_floor = [e for e in self if e.at_floor]
        if at_floor:
            return min(at_floor, key=lambda e: e.complexity)
        losses = _clamped_losses([e.loss for e in self])
        if not np.any(np.isfinite(losses)):
            return self[-1]  # losses unknown: the most complex (last) equation
        lowest = np.nanmin(losses)
        eligible = [i for i, loss in enumerate(losses) if loss <= BEST_LOSS_FACTOR * lowest]
        score = [self[i].score if math.isfinite(self[i].score) else 0.0 for i in eligible]
        order = sorted(zip(eligible, score), key=lambda p: (-p[1], self[p[0]].complexity))
        return self[order[0][0]]

    def __str__(self) -> str:
        rule = "-" * 41
        lines = ["Hall of Fame:", rule, f"{'Complexity':<12}{'Loss':<12}{'Score':<12}Equation"]
        for e in self:
            lines.append(f"{e.complexity:<12d}{e.loss:<12.3e}{e.score:<12.3e}{e}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def read_flag(value) -> bool | None:
    """A boolean read from a table (``True``/``False``, 1/0 or their text)."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        return None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return bool(value)


def _clamped_losses(losses: Sequence[float]) -> np.ndarray:
    """Losses clamped below at ``EXACT`` times the simplest equation's loss."""
    losses = np.asarray(losses, dtype=float)
    if not len(losses):
        return losses
    reference = losses[0] if losses[0] > 0 else np.nanmax(losses)
    floor = EXACT * reference if reference > 0 else 1e-300
    return np.maximum(losses, floor)


def pareto_front(
    candidates: Sequence[tuple[sp.Expr, float]],
    parameter_names: Sequence[str],
    parsimony: float = 0.0,
    noise: NoiseFloor | None = None,
) -> HallOfFame:
    """Build the hall of fame from (expression, loss) candidates.

    Keeps, for increasing complexity, each equation whose loss is lower than
    every simpler one's (with ``noise`` on noisy data, losses charged for
    their fitted constants as BIC does); with ``parsimony > 0`` an equation must also improve
    that (charged) log-loss by at least ``parsimony`` per extra unit of complexity over
    the previous kept one (losses clamped as for :attr:`HallOfFame.best`).
    Scores are computed on the kept front.

    With ``noise`` (the noise floor of the data), each equation is flagged
    ``at_floor`` (:meth:`NoiseFloor.reached` with its number of float
    constants, after lowering the floor to what the best equation achieves,
    :meth:`NoiseFloor.consistent`); the simplest such equation is always
    kept, whatever ``parsimony`` says.
    """
    noisy = noise is not None and noise.noisy

    def rank(loss: float, expr: sp.Expr) -> float:
        """The loss equations are compared by: on noisy data, charged for
        their fitted constants as BIC does (``n log(loss) + k log(n)``), so
        an approximation whose extra constants fit the noise does not push
        out a law with fewer."""
        if not noisy:
            return loss
        return loss * math.exp(len(expr.atoms(sp.Float)) * math.log(noise.n) / noise.n)

    best: dict[int, tuple[float, float, sp.Expr]] = {}
    for expr, loss in candidates:
        if not math.isfinite(loss):
            continue
        size = expression_complexity(expr)
        ranked = rank(loss, expr)
        if size not in best or ranked < best[size][0] or (
            ranked == best[size][0] and len(str(expr)) < len(str(best[size][2]))
        ):
            best[size] = (ranked, loss, expr)
    front: list[tuple[int, float, sp.Expr]] = []
    charged: list[float] = []
    lowest = math.inf
    for size in sorted(best):
        ranked, loss, expr = best[size]
        if ranked >= lowest:
            continue
        lowest = ranked
        front.append((size, loss, expr))
        charged.append(ranked)
    clamped = _clamped_losses([f[1] for f in front])
    gains = _clamped_losses(charged)  # what parsimony weighs: charged losses, as the front
    flags = [None] * len(front)
    if noise is not None:
        counts = [len(expr.atoms(sp.Float)) for _, _, expr in front]
        noise = noise.consistent([(loss, k) for (_, loss, _), k in zip(front, counts)])
        flags = [noise.reached(loss, k) for (_, loss, _), k in zip(front, counts)]
    protected = next((i for i, flag in enumerate(flags) if flag), None)
    kept: list[int] = []
    for i in range(len(front)):
        if kept and i != protected:
            j = kept[-1]
            gain = math.log(gains[j] / gains[i])
            if gain <= 0 or gain < parsimony * (front[i][0] - front[j][0]):
                continue
        kept.append(i)
    equations = []
    for position, i in enumerate(kept):
        size, loss, expr = front[i]
        score = 0.0
        if position:
            j = kept[position - 1]
            score = math.log(clamped[j] / clamped[i]) / (size - front[j][0])
        equations.append(Equation(expr, parameter_names, loss=loss, score=score, complexity=size,
                                  at_floor=flags[i]))
    return HallOfFame(equations, parameter_names)
