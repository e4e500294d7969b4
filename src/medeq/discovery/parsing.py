"""Equations are data: a whitelist parser from text to sympy.

Equation text comes from files (``equations.csv`` of a campaign folder that
may have travelled) and from users (``med.predict(equation="A + 2*B")``).
It never reaches ``eval``, ``sympify`` or ``parse_expr``: the text is read
by Python's :mod:`ast` parser (which only builds a tree, it runs nothing),
and the tree is turned into sympy node by node, accepting only

* numbers;
* the campaign's parameter names (any text: names that are not Python
  identifiers, or are keywords such as ``lambda``, are matched verbatim);
* ``+ - * / **`` (``^`` is read as ``**``) and unary ``+``/``-``;
* calls of known function names (:data:`FUNCTIONS`) with positional arguments;
* the constants ``pi``, ``E``, ``I``, ``oo``, ``zoo``, ``nan`` (unless a parameter has the name).

Sizes are limited so that a hostile text cannot hang the caller: the text's
length, the number of tree nodes, the magnitude of numeric exponents and of
numeric powers (``9**9**9`` is rejected at once), and the time spent
building the expression.

>>> parse("2*A^2 + sqrt(B)", ["A", "B"])
2*A**2 + sqrt(B)
>>> parse("__import__('os').system('ls')", ["A"])
Traceback (most recent call last):
...
ValueError: could not parse the equation "__import__('os').system('ls')": "__import__('os').system" is not a function name; known functions are [...]
"""

from __future__ import annotations

import ast
import io
import math
import time
import tokenize
from collections.abc import Sequence

import sympy as sp

#: Functions the parser knows, by the names the printer writes.
FUNCTIONS: dict[str, object] = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "exp": sp.exp, "log": sp.log,
    "sqrt": sp.sqrt, "Abs": sp.Abs, "abs": sp.Abs, "tanh": sp.tanh, "sinh": sp.sinh,
    "cosh": sp.cosh, "asin": sp.asin, "acos": sp.acos, "atan": sp.atan,
    "cbrt": sp.cbrt, "floor": sp.floor, "ceiling": sp.ceiling, "ceil": sp.ceiling,
    "Min": sp.Min, "Max": sp.Max, "log1p": lambda a: sp.log(1 + a),
    "square": lambda a: a**2, "cube": lambda a: a**3, "neg": lambda a: -a,
    "sign": sp.sign, "re": sp.re, "im": sp.im,
}

#: Named constants (a parameter of the same name wins).
CONSTANTS: dict[str, sp.Expr] = {
    "pi": sp.pi, "E": sp.E, "I": sp.I, "oo": sp.oo, "zoo": sp.zoo, "nan": sp.nan,
}

#: Longest equation text accepted (characters).
MAX_LENGTH = 5000
#: Most syntax-tree nodes accepted.
MAX_NODES = 1000
#: Largest magnitude of a numeric exponent (``x**200`` is rejected).
MAX_EXPONENT = 100
#: Largest magnitude (decimal digits) of a number computed from a numeric power.
MAX_DIGITS = 400
#: Longest time spent building one expression (seconds).
MAX_SECONDS = 2.0

_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


class _Rejected(ValueError):
    """The text is not an equation this parser accepts (reason in the message)."""


def parse(text: str, names: Sequence[str], *, max_seconds: float = MAX_SECONDS) -> sp.Expr:
    """Parse an equation written in parameter names into a sympy expression.

    Every parameter name becomes a plain :class:`sympy.Symbol`, whatever it
    is (``lambda``, ``E``, ``S``, ``pi``, ``mu [Pa s]``...); ``^`` means power.
    Nothing in the text is executed.

    Raises
    ------
    ValueError
        If the text is not an accepted expression of the parameters (the
        message says why).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"an equation must be a non-empty string, got {text!r}.")
    names = [str(n) for n in names]
    try:
        if len(text) > MAX_LENGTH:
            raise _Rejected(f"it is longer than {MAX_LENGTH} characters")
        source, symbols = _substitute_names(text, names)
        try:
            tree = ast.parse(source.strip(), mode="eval")
        except (SyntaxError, RecursionError, MemoryError, ValueError) as err:
            raise _Rejected(f"it is not an expression ({type(err).__name__}: {err})") from None
        count = sum(1 for _ in ast.walk(tree))
        if count > MAX_NODES:
            raise _Rejected(f"it has {count} syntax nodes, more than the {MAX_NODES} allowed")
        builder = _Builder(symbols, names, time.monotonic() + max_seconds, max_seconds)
        try:
            expr = builder.build(tree.body)
        except RecursionError:
            raise _Rejected("it is nested too deeply") from None
    except _Rejected as why:
        raise ValueError(f"could not parse the equation {text!r}: {why}") from None
    if not isinstance(expr, sp.Expr):
        raise ValueError(f"the equation {text!r} is not a numeric expression.")
    return expr


def _substitute_names(text: str, names: list[str]) -> tuple[str, dict[str, sp.Symbol]]:
    """Replace parameter names by safe identifiers; ``^`` by ``**``.

    Returns the new source and the identifiers -> symbols map.
    """
    aliases = {name: f"_medeq_p{i}" for i, name in enumerate(names)}
    symbols = {alias: sp.Symbol(name) for name, alias in aliases.items()}
    source = text
    # Names that are not Python identifiers are replaced verbatim, longest
    # first; identifiers (keywords such as ``lambda`` included) token by token.
    special = [n for n in names if not n.isidentifier()]
    for name in sorted(special, key=len, reverse=True):
        source = source.replace(name, f" {aliases[name]} ")
    source = source.replace("^", "**")
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError) as err:
        raise _Rejected(f"it is not an expression ({err})") from None
    out = []
    for i, tok in enumerate(tokens):
        following = tokens[i + 1].string if i + 1 < len(tokens) else ""
        if tok.type == tokenize.NAME and tok.string in aliases and following != "(":
            tok = tok._replace(string=aliases[tok.string])
        out.append(tok)
    try:
        return tokenize.untokenize(out), symbols
    except ValueError as err:
        raise _Rejected(f"it is not an expression ({err})") from None


class _Builder:
    """Turns an accepted :mod:`ast` tree into sympy, checking each node."""

    def __init__(self, symbols: dict[str, sp.Symbol], names: list[str], deadline: float,
                 max_seconds: float):
        self.symbols = symbols
        self.taken = set(names)
        self.deadline = deadline
        self.max_seconds = max_seconds

    def build(self, node: ast.AST) -> sp.Expr:
        if time.monotonic() > self.deadline:
            raise _Rejected(f"building it took longer than {self.max_seconds:g} s")
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _Rejected(f"{value!r} is not a number")
            if isinstance(value, int) and abs(value) >= 10**MAX_DIGITS:
                raise _Rejected(f"the number {str(value)[:20]}... is too large")
            return sp.Integer(value) if isinstance(value, int) else sp.Float(repr(value))
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                return self._power(self.build(node.left), self.build(node.right))
            operation = _BINARY.get(type(node.op))
            if operation is None:
                raise _Rejected(f"the operator {type(node.op).__name__} is not allowed; "
                                "use + - * / ** (or ^)")
            return operation(self.build(node.left), self.build(node.right))
        if isinstance(node, ast.Call):
            return self._call(node)
        raise _Rejected(f"{_describe(node)} is not allowed in an equation")

    def _name(self, name: str) -> sp.Expr:
        if name in self.symbols:
            return self.symbols[name]
        if name in self.taken:  # a parameter called like a function name, e.g. "sin"
            return sp.Symbol(name)
        if name in CONSTANTS:
            return CONSTANTS[name]
        raise _Rejected(f"it uses {name!r}, which is not one of the parameters {sorted(self.taken)}")

    def _power(self, base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
        if exponent.is_number:
            try:
                magnitude = abs(complex(exponent))
            except (TypeError, ValueError):
                magnitude = math.inf
            if not magnitude <= MAX_EXPONENT:
                raise _Rejected(f"the exponent {_short(exponent)} is larger than {MAX_EXPONENT} in magnitude")
            if base.is_number:
                try:
                    size = abs(complex(base))
                except (TypeError, ValueError):
                    size = math.inf
                if size > 1 and magnitude * math.log10(size) > MAX_DIGITS:
                    raise _Rejected(f"the number {_short(base)}**{_short(exponent)} is too large")
        return base**exponent

    def _call(self, node: ast.Call) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            raise _Rejected(f"{_describe(node.func)} is not a function name; known functions are "
                            f"{sorted(FUNCTIONS)}")
        name = node.func.id
        function = FUNCTIONS.get(name)
        if function is None:
            raise _Rejected(f"calling {name!r} is not allowed; known functions are {sorted(FUNCTIONS)}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args) or not node.args:
            raise _Rejected(f"{name}() takes plain positional arguments")
        arguments = [self.build(a) for a in node.args]
        try:
            return function(*arguments)
        except (TypeError, ValueError) as err:
            raise _Rejected(f"{name}() with {len(arguments)} argument(s): {err}") from None


def _describe(node: ast.AST) -> str:
    try:
        return repr(ast.unparse(node)[:40])
    except Exception:  # noqa: BLE001 - only a description for the message
        return type(node).__name__


def _short(expr: sp.Expr) -> str:
    text = str(expr)
    return text if len(text) <= 20 else text[:20] + "..."
