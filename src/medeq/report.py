"""A campaign's report: one self-contained HTML page that works offline.

The page holds the set-up, the results table, the sample plot, interactive
surrogate slices for every response, the discovered equations (as MathML,
which browsers render natively) and a sensitivity table. plotly.js is
inlined once; the page loads nothing from the network. Sections that cannot
be drawn yet (no samples, no surrogate, too few samples for sensitivity)
say why instead.

>>> med.report("report.html")
"""

from __future__ import annotations

import html
import logging
import re
import warnings
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import plotly.io as pio
import sympy as sp
from plotly.offline import get_plotlyjs

from ._figures import CONFIG, response_label
from .discovery.campaign import campaign_analyses
from .fileio import atomic_write

logger = logging.getLogger(__name__)

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1f2937; background: #f8fafc; }
main { max-width: 1250px; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
h1 { margin-bottom: .2rem; } h2 { border-bottom: 2px solid #cbd5e1; padding-bottom: .3rem;
     margin-top: 2.5rem; }
.meta, .note { color: #64748b; } .note { font-style: italic; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .9rem; background: white; }
th, td { border: 1px solid #cbd5e1; padding: .25rem .6rem; text-align: right; }
th { background: #e2e8f0; } td.eq { text-align: left; }
tr.best { background: #dcfce7; }
.scroll { max-height: 28rem; overflow: auto; display: inline-block; }
.figure { background: white; border: 1px solid #e2e8f0; margin: .8rem 0; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; }
math { font-size: 1.15rem; }
"""


def write_report(med, path="report.html", title: str | None = None,
                 sensitivity: str | None = "rbd_fast", resolution=(24, 24),
                 max_rows: int = 1000) -> Path:
    """Write the campaign's report as one self-contained HTML page.

    Parameters
    ----------
    med : medeq.MED
        The campaign; empty and partial campaigns give a page too.
    path : str or Path, default "report.html"
        Where to write the page.
    title : str, optional
        Page title; default names the campaign's seed.
    sensitivity : str or None, default "rbd_fast"
        Sensitivity algorithm (see :func:`medeq.sensitivity.sensitivity`);
        ``None`` leaves the section out.
    resolution : int or (int, int), default (24, 24)
        Grid of the surrogate slices.
    max_rows : int, default 1000
        Rows of the results table shown (all are in the campaign folder).

    Returns
    -------
    pathlib.Path
        The page written.
    """
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"path must end in .html; got {str(path)!r}.")
    if sensitivity is not None:
        from .sensitivity import check_algorithm

        check_algorithm(sensitivity)
    title = title or f"medeq campaign (seed {med.seed})"
    figures = _FigureCounter()
    sections = [
        _setup(med),
        _results(med, max_rows),
        _samples(med, figures),
        _surrogates(med, figures, resolution),
        _equations(med),
    ]
    if sensitivity is not None:
        sections.append(_sensitivity(med, sensitivity))
    page = _page(title, med, sections)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, page)
    return path


class _FigureCounter:
    """Turns figures into HTML fragments with unique ids (plotly.js loaded once)."""

    def __init__(self):
        self.count = 0

    def html(self, fig) -> str:
        self.count += 1
        fragment = pio.to_html(fig, full_html=False, include_plotlyjs=False,
                               include_mathjax=False, config=CONFIG,
                               div_id=f"figure-{self.count}")
        return f'<div class="figure">{fragment}</div>'


def _page(title: str, med, sections: list[str]) -> str:
    from . import __version__

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n"
        f"<script type=\"text/javascript\">{get_plotlyjs()}</script>\n</head>\n<body>\n<main>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        f"<p class=\"meta\">Generated {stamp} by medeq {__version__}: {med.n_evaluated} "
        f"evaluated sample(s), {len(med.queue)} queued, {len(med.epochs)} epoch(s).</p>\n"
        + "\n".join(sections)
        + "\n</main>\n</body>\n</html>\n"
    )


def _section(anchor: str, heading: str, body: str) -> str:
    return f'<section id="{anchor}">\n<h2>{html.escape(heading)}</h2>\n{body}\n</section>'


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _table(frame: pd.DataFrame, **kwargs) -> str:
    return frame.to_html(border=0, float_format=lambda v: f"{v:.6g}", **kwargs)


def _setup(med) -> str:
    items = {
        "responses": ", ".join(response_label(med, k) for k in range(len(med.names))) or "none yet",
        "sampler": repr(med.sampler),
        "scheduler": repr(med.scheduler) if med.scheduler is not None else "in-process",
        "seed": str(med.seed),
        "samples": f"{len(med.samples)} ({med.n_evaluated} evaluated, {len(med.queue)} queued)",
    }
    if med.script is not None:
        items["script"] = str(med.script.path)
    if med.paths is not None:
        items["folder"] = str(med.paths.directory)
    facts = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in items.items())
    body = f"<h3>Parameters</h3>\n{_table(med.parameters)}\n<dl>{facts}</dl>"
    if med.epochs:
        origins = list(med.epoch_origins) or ["evaluated"] * len(med.epochs)
        epochs = pd.DataFrame(
            {"origin": origins, "first row": [a for a, _ in med.epochs],
             "samples": [b - a for a, b in med.epochs]},
            index=pd.Index(range(len(med.epochs)), name="epoch"),
        )
        body += f"\n<h3>Epochs</h3>\n{_table(epochs)}"
    return _section("setup", "Campaign set-up", body)


def _results(med, max_rows: int) -> str:
    if med.n_evaluated == 0:
        return _section("results", "Results", _note(
            "No results yet: evaluate the queued samples (med.evaluate)."))
    frame = med.results
    shown = frame.head(max_rows)
    more = "" if len(frame) <= max_rows else _note(
        f"Showing the first {max_rows} of {len(frame)} results.")
    return _section("results", "Results", f'<div class="scroll">{_table(shown)}</div>{more}')


def _samples(med, figures: _FigureCounter) -> str:
    from .plots import plot_samples

    if len(med.samples) == 0:
        return _section("samples", "Samples", _note("No samples yet: call med.sample(n)."))
    return _section("samples", "Samples", figures.html(plot_samples(med)))


def _surrogates(med, figures: _FigureCounter, resolution) -> str:
    from .plots import plot_gp

    if med.gp is None:
        return _section("surrogate", "Surrogate", _note(
            "No surrogate yet: it needs at least 2 evaluated samples with finite responses; "
            f"this campaign has {med.n_evaluated}."))
    parts = []
    for k, name in enumerate(med.names):
        if med.gp[k] is None:
            parts.append(_note(f"{name}: fewer than 2 finite results, no surrogate."))
            continue
        fig = plot_gp(med, response=k, resolution=resolution, verbose=False)
        parts.append(f"<h3>{html.escape(name)}</h3>\n{figures.html(fig)}")
    return _section("surrogate", "Surrogate (mean and uncertainty)", "\n".join(parts))


def _equations(med) -> str:
    if not med.sr:
        return _section("equations", "Discovered equations", _note(
            "No equations discovered yet: call med.discover()."))
    analyses = campaign_analyses(med)
    parts = []
    for name, hall in med.sr.items():
        groups = (f"<pre class=\"groups\">{html.escape(analyses[name].describe(str(name)))}</pre>\n"
                  if name in analyses else "")
        parts.append(f"<h3>{html.escape(str(name))}</h3>\n{groups}{_hall_of_fame(hall)}")
    return _section("equations", "Discovered equations", "\n".join(parts))


def _hall_of_fame(hall) -> str:
    """Table of a hall of fame, the best equation highlighted, maths as MathML."""
    if len(hall) == 0:
        return _note("The search found no equation.")
    frame = hall.frame
    try:
        best = hall.best
    except ValueError:
        best = None
    rows = []
    for i, equation in enumerate(hall):
        row = frame.iloc[i]
        css = ' class="best"' if equation is best else ""
        rows.append(
            f"<tr{css}><td>{int(row['complexity'])}</td><td>{row['loss']:.4g}</td>"
            f"<td>{row['score']:.4g}</td><td class=\"eq\">{mathml(equation.sympy)}</td>"
            f"<td class=\"eq\"><code>{html.escape(str(row['equation']))}</code></td></tr>"
        )
    head = ("<tr><th>complexity</th><th>loss</th><th>score</th><th>equation</th>"
            "<th>text</th></tr>")
    caption = "" if best is None else _note(
        "Highlighted: the best trade-off of loss and complexity.")
    return f"<table>{head}{''.join(rows)}</table>{caption}"


def mathml(expr) -> str:
    """Presentation MathML of a sympy expression, rendered by browsers natively.

    Every symbol name is escaped: names that are not plain identifiers are
    printed through placeholders and put back as escaped text, so a
    parameter called ``<script>...`` is shown, never run.
    """
    from sympy.printing.mathml import mathml as to_mathml

    placeholders = {}
    for i, symbol in enumerate(sorted(expr.free_symbols, key=lambda s: s.name)):
        if not SAFE_NAME.match(symbol.name):
            placeholders[symbol] = sp.Symbol(f"medeqsymbol{_letters(i)}")
    body = to_mathml(expr.xreplace(placeholders), printer="presentation")
    for symbol, placeholder in placeholders.items():
        body = body.replace(f"<mi>{placeholder.name}</mi>", f"<mi>{html.escape(symbol.name)}</mi>")
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">{body}</math>'


#: Symbol names sympy's MathML printer writes safely (letters, digits, underscores).
SAFE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _letters(i: int) -> str:
    """``i`` in letters of fixed width (keeps the placeholders' sort order)."""
    out = ""
    for _ in range(6):
        i, r = divmod(i, 26)
        out = chr(ord("a") + r) + out
    return out


def _sensitivity(med, algorithm: str) -> str:
    from .sensitivity import METHODS, sensitivity

    heading = f"Sensitivity ({algorithm})"
    if med.responses is None:
        return _section("sensitivity", heading, _note("No results yet."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # skipped responses: noted below
            frame = sensitivity(med, algorithm, verbose=False)
    except ValueError as err:
        return _section("sensitivity", heading, _note(str(err)))
    notes = "".join(_note(f"{name}: {why}") for name, why in frame.attrs["skipped"].items())
    summary = METHODS[algorithm].summary
    samples = ", ".join(f"{k}: {v}" for k, v in frame.attrs.get("samples", {}).items())
    return _section("sensitivity", heading,
                    f"<p>{html.escape(summary)}; samples used: {html.escape(samples)}.</p>"
                    f"\n{_table(frame)}{notes}")
