"""The HTML report: empty, partial and complete campaigns; self-contained."""

import re

import numpy as np
import pytest
from plotly.offline import get_plotlyjs
from test_plots import campaign

import medeq


def figures(text):
    return re.findall(r'<div id="figure-\d+"', text)


def assert_self_contained(text):
    assert "<script src=" not in text and "<link " not in text
    assert get_plotlyjs()[:200] in text and text.count(get_plotlyjs()[:200]) == 1


def hall_of_fame(names):
    discovery = pytest.importorskip("medeq.discovery")
    return discovery.HallOfFame([
        discovery.Equation("A", names, loss=2.0, score=0.1),
        discovery.Equation("A^2 + sin(B)/C", names, loss=1e-3, score=4.0),
        discovery.Equation("A^2 + sin(B)/C + 0.001*D", names, loss=9e-4, score=0.05),
    ], names)


def test_empty_campaign(tmp_path):
    med = medeq.MED(medeq.create_parameters(["A", "B"], [0, 0], [1, 1]), seed=4, verbose=0)
    path = med.report(tmp_path / "report.html")
    assert path == tmp_path / "report.html"
    text = path.read_text()
    assert_self_contained(text)
    assert "medeq campaign (seed 4)" in text
    for note in ("No results yet", "No samples yet", "No surrogate yet", "No equations"):
        assert note in text
    assert figures(text) == []
    assert "<td>0.5</td>" in text or ">0.5<" in text        # parameters table


def test_queued_only_and_single_result(tmp_path):
    med = medeq.MED(medeq.create_parameters(["A", "B"], [0, 0], [1, 1]), seed=4, verbose=0)
    med.sample(3)
    text = med.report(tmp_path / "queued.html").read_text()
    assert len(figures(text)) == 1 and "queued (3)" in text and "No results yet" in text
    with pytest.warns(RuntimeWarning):
        med.evaluate([1.0, np.nan, np.nan])
    text = med.report(tmp_path / "one.html").read_text()
    assert "No surrogate yet" in text and len(figures(text)) == 1
    assert "rbd_fast" in text and "needs at least 21" in text     # sensitivity explains why


def test_complete_campaign_with_several_responses(tmp_path):
    med = campaign(3, k=2, n=12, queued=0)
    text = med.report(tmp_path / "full.html", title="Drag & drop", resolution=6).read_text()
    assert_self_contained(text)
    assert "<h1>Drag &amp; drop</h1>" in text
    assert len(figures(text)) == 1 + 2                   # samples + one slice figure per response
    assert "<h3>y0</h3>" in text and "<h3>y1</h3>" in text
    assert 'id="sensitivity"' in text and "S1_conf" in text
    assert text.count("<tr>") > 26                       # every result is in the table
    assert "No equations discovered yet" in text


def test_discovered_equations_are_rendered_as_mathml(tmp_path):
    med = campaign(4, n=10, queued=0)
    med.sr["response"] = hall_of_fame(med.parameter_names)
    text = med.report(tmp_path / "eq.html", sensitivity=None).read_text()
    section = text[text.index('id="equations"'):]
    assert section.count("<math") == 3 and "<mfrac>" in section and "<mi>sin</mi>" in section
    best = re.search(r'<tr class="best">.*?</tr>', section).group(0)
    assert "A**2 + sin(B)/C" in best and ">0.001<" in best
    assert 'id="sensitivity"' not in text


def test_sensitivity_choice_and_errors(tmp_path):
    med = campaign(2, n=15, queued=0)
    text = med.report(tmp_path / "pawn.html", sensitivity="pawn").read_text()
    assert "Sensitivity (pawn)" in text and "median" in text
    with pytest.raises(ValueError, match="unknown sensitivity algorithm"):
        med.report(tmp_path / "bad.html", sensitivity="sobol")
    with pytest.raises(ValueError, match=r"\.html"):
        med.report(tmp_path / "report.txt")
    assert not (tmp_path / "bad.html").exists()


def test_long_results_table_is_cut(tmp_path):
    med = campaign(2, n=15, queued=0, augmented=False)
    text = med.report(tmp_path / "cut.html", max_rows=5, sensitivity=None).read_text()
    assert "Showing the first 5 of 30 results" in text


def test_saved_and_loaded_campaign(tmp_path):
    med = campaign(2, k=2, n=6, queued=2)
    med.save(tmp_path / "campaign")
    loaded = medeq.MED.load(tmp_path / "campaign")
    text = loaded.report(tmp_path / "loaded.html", sensitivity=None).read_text()
    assert "epoch 2 (augmented)" in text and "queued (2)" in text
    assert str(tmp_path / "campaign") in text and len(figures(text)) == 3
