"""PySR-style ``constraints`` and ``nested_constraints`` on equations.

``constraints`` limit the complexity of an operator's arguments:
``{"^": (-1, 1)}`` allows any base but only a constant or variable exponent,
``{"sin": 5}`` allows arguments of ``sin`` of complexity at most 5 (``-1``
means any). ``nested_constraints`` limit nesting: ``{"sin": {"cos": 0}}``
forbids ``cos`` anywhere inside ``sin``; ``{"exp": {"exp": 1}}`` allows at most
one ``exp`` inside an ``exp``.

They are checked on the operator-tree view of each candidate equation
(:func:`medeq.discovery.expressions.op_tree`); the hall of fame only keeps
equations that satisfy them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sympy as sp

from .expressions import canonical_operator, op_tree, tree_size, walk

BINARY = ("+", "-", "*", "/", "^")


def validate(
    constraints: Mapping | None,
    nested_constraints: Mapping | None,
    operators: Sequence[str],
) -> tuple[dict, dict]:
    """Check and normalise the constraints against the chosen operators.

    Returns
    -------
    (dict, dict)
        ``{operator: (left, right) or (argument,)}`` and
        ``{outer: {inner: max_nesting}}`` with canonical operator names.

    Raises
    ------
    ValueError
        Unknown operator, an operator not in the search, or a malformed limit.
    """
    allowed = {canonical_operator(o) for o in operators}
    flat: dict[str, tuple[int, ...]] = {}
    if constraints is not None and not isinstance(constraints, Mapping):
        raise ValueError(f"constraints must be a dict such as {{'^': (-1, 1)}}; got {constraints!r}.")
    for key, limit in (constraints or {}).items():
        name = _known(key, allowed, "constraints")
        arity = 2 if name in BINARY else 1
        values = (limit,) if isinstance(limit, (int,)) and not isinstance(limit, bool) else limit
        try:
            values = tuple(int(v) for v in values)
        except (TypeError, ValueError):
            values = ()
        if len(values) != arity or any(v < -1 for v in values):
            shape = "(left, right), e.g. (-1, 1)" if arity == 2 else "an int, e.g. 5"
            raise ValueError(
                f"constraints[{key!r}] = {limit!r} is not valid: a {arity}-argument operator "
                f"takes {shape}, with -1 meaning any complexity."
            )
        flat[name] = values
    nested: dict[str, dict[str, int]] = {}
    if nested_constraints is not None and not isinstance(nested_constraints, Mapping):
        raise ValueError(
            f"nested_constraints must be a dict such as {{'sin': {{'cos': 0}}}}; got {nested_constraints!r}."
        )
    for outer, inner in (nested_constraints or {}).items():
        outer_name = _known(outer, allowed, "nested_constraints")
        if not isinstance(inner, Mapping):
            raise ValueError(
                f"nested_constraints[{outer!r}] must be a dict like {{'cos': 0}}; got {inner!r}."
            )
        nested[outer_name] = {}
        for name, count in inner.items():
            inner_name = _known(name, allowed, "nested_constraints")
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(
                    f"nested_constraints[{outer!r}][{name!r}] = {count!r}: use a count >= 0."
                )
            nested[outer_name][inner_name] = count
    return flat, nested


def _known(key, allowed: set[str], label: str) -> str:
    name = canonical_operator(key)
    if name not in allowed:
        raise ValueError(
            f"{label} names the operator {key!r}, which is not in this search; "
            f"the operators are {sorted(allowed)}."
        )
    return name


def satisfies(expr: sp.Expr, constraints: Mapping, nested: Mapping) -> bool:
    """Whether ``expr`` meets validated ``constraints`` and ``nested`` limits."""
    if not constraints and not nested:
        return True
    tree = op_tree(expr)
    for node in walk(tree):
        name, children = node
        limits = constraints.get(name)
        if limits and len(limits) == len(children) and any(
            lim != -1 and tree_size(child) > lim for lim, child in zip(limits, children)
        ):
            return False
        for inner, allowed in nested.get(name, {}).items():
            if max((_nesting(child, inner) for child in children), default=0) > allowed:
                return False
    return True


def expressible(expr: sp.Expr, operators: Sequence[str]) -> bool:
    """Whether ``expr`` only uses the given operators.

    Integer powers count as repeated ``*`` (and ``/`` if negative),
    half-integer powers also need ``sqrt``; other powers need ``^``; ``sin``
    is written ``cos(x - pi/2)`` when only ``cos`` (and ``+`` or ``-``) is
    allowed, and ``cos`` as ``sin(x + pi/2)``.
    """
    allowed = {canonical_operator(o) for o in operators}
    for node in sp.preorder_traversal(expr):
        if not node.free_symbols:
            continue  # a constant such as sqrt(2) or 1/pi is a number, not an operation
        if node.is_Pow and node.exp.is_Number and "^" not in allowed:
            power = node.exp
            if power.is_negative and "/" not in allowed:
                return False
            if power.is_integer:
                continue
            if not ((2 * power).is_integer and "sqrt" in allowed):
                return False
        elif node.is_Pow and "^" not in allowed and not node.exp.is_Number:
            return False
        elif isinstance(node, sp.Function):
            name = "abs" if isinstance(node, sp.Abs) else type(node).__name__.lower()
            if name not in allowed and not _phase_shift(name, allowed):
                return False
    return True


#: sin(x) = cos(x - pi/2) and cos(x) = sin(x + pi/2): either one writes the other.
_PHASE_PARTNER = {"sin": "cos", "cos": "sin"}


def _phase_shift(name: str, allowed: set[str]) -> bool:
    """Whether ``name`` is written with its phase-shifted partner (sympy turns
    ``cos(x - pi/2)`` into ``sin(x)`` by itself)."""
    return _PHASE_PARTNER.get(name) in allowed and bool({"+", "-"} & allowed)


def _nesting(tree, name: str) -> int:
    """Largest number of ``name`` operators on a root-to-leaf path of ``tree``."""
    here = 1 if tree[0] == name else 0
    return here + max((_nesting(child, name) for child in tree[1]), default=0)
