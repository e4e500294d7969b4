"""The report and the interactive slices in a real headless Chromium.

Needs Debian's ``chromium`` at /usr/bin/chromium and the ``playwright`` Python
package (its driver only: no browser is downloaded).
"""

import json
import os

import numpy as np
import pytest
from test_plots import campaign

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium; skipped (a failure in CI) when Chromium or playwright is missing."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is missing (pip install playwright)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class Watched:
    """A page that records JavaScript errors and any request leaving the machine."""

    def __init__(self, browser):
        self.page = browser.new_page(viewport={"width": 1280, "height": 1000})
        self.page.set_default_timeout(60_000)
        self.errors, self.remote = [], []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:"))
                     else self.remote.append(r.url))

    def open(self, path):
        self.page.goto(path.as_uri())
        self.page.wait_for_selector(".js-plotly-plot .main-svg")
        self.page.wait_for_timeout(300)

    def state(self, div_id):
        return self.page.evaluate("""id => {
            const gd = document.getElementById(id);
            const image = gd.querySelector('.heatmaplayer image');
            return {traces: gd.data.length, z: JSON.stringify(gd.data[0].z),
                    title: gd.layout.title.text, active: gd.layout.sliders.map(s => s.active),
                    image: image ? image.getAttribute('href') : null,
                    heatmaps: gd.querySelectorAll('.heatmaplayer image').length};
        }""", div_id)

    def click_slider(self, div_id, slider, fraction):
        rails = f'[id="{div_id}"] .slider-container .slider-rail-touch-rect'
        rail = self.page.locator(rails).nth(slider)
        rail.scroll_into_view_if_needed()
        box = rail.bounding_box()
        self.page.mouse.click(box["x"] + fraction * box["width"], box["y"] + box["height"] / 2)
        self.page.wait_for_timeout(300)


def test_report_loads_draws_and_slides(browser, tmp_path):
    discovery = pytest.importorskip("medeq.discovery")
    med = campaign(4, k=2, n=10, queued=2)
    names = med.parameter_names
    med.sr["y0"] = discovery.HallOfFame([
        discovery.Equation("A", names, loss=1.0, score=0.1),
        discovery.Equation("sin(A) + A^2 + B^2 + C^2/D", names, loss=1e-4, score=2.0),
    ], names)
    path = med.report(tmp_path / "report.html", resolution=16)
    watched = Watched(browser)
    watched.open(path)
    page = watched.page

    plots = page.eval_on_selector_all(".js-plotly-plot", "nodes => nodes.map(n => n.id)")
    assert plots == ["figure-1", "figure-2", "figure-3"]      # samples, y0 and y1 slices
    assert page.eval_on_selector("#figure-1", "gd => gd._fullData.length") == 4
    assert page.locator("#figure-1 canvas").count() > 0        # the scatter matrix (WebGL)
    before = watched.state("figure-2")
    assert before["heatmaps"] == 2 and before["traces"] == 2 + 2 * 4
    assert before["active"] == [4, 4]                           # C, D at their reference
    other = watched.state("figure-3")

    maths = page.evaluate("""() => {
        const box = q => document.querySelector(q).getBoundingClientRect();
        return {count: document.querySelectorAll('math').length, long: box('tr.best math').width,
                frac: box('tr.best mfrac').height, letter: box('tr.best mi').height};
    }""")
    assert maths["count"] == 2 and maths["long"] > 60          # MathML laid out as maths:
    assert maths["frac"] > 1.5 * maths["letter"]               # a fraction stacks two lines

    watched.click_slider("figure-2", 1, 0.95)                  # D to its maximum
    after = watched.state("figure-2")
    assert after["active"] == [4, 8]
    assert after["z"] != before["z"] and after["image"] != before["image"]
    assert after["title"].endswith("C = 0.5, D = 2")

    watched.click_slider("figure-2", 0, 0.02)                  # C to its minimum: D returns
    again = watched.state("figure-2")
    assert again["active"] == [0, 4] and again["title"].endswith("C = -1, D = 0.5")
    assert watched.state("figure-3") == other                  # the y1 slices did not move

    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert watched.errors == [] and watched.remote == []


def test_standalone_slices_any_dimension(browser, tmp_path):
    med = campaign(6, n=10, queued=0)
    path = tmp_path / "slices.html"
    fig = med.plot_gp(resolution=12, steps=5, path=path, verbose=False)
    watched = Watched(browser)
    watched.open(path)
    div_id = watched.page.eval_on_selector(".js-plotly-plot", "gd => gd.id")
    before = watched.state(div_id)
    assert len(before["active"]) == 4 and before["heatmaps"] == 2
    assert np.allclose(json.loads(before["z"]), np.array(fig.data[0].z, float))
    watched.click_slider(div_id, 3, 0.0)                       # F to its minimum
    after = watched.state(div_id)
    assert after["active"][3] == 0 and after["z"] != before["z"]
    expected = fig.layout.sliders[3].steps[0].args[0]["z"][0]
    assert np.allclose(json.loads(after["z"]), np.array(expected, float))
    watched.page.screenshot(path=str(tmp_path / "slices.png"), full_page=True)
    assert watched.errors == [] and watched.remote == []


def test_report_with_hostile_names_runs_no_script(browser, tmp_path):
    """Parameter, response and equation names that are markup stay text (issue #12)."""
    discovery = pytest.importorskip("medeq.discovery")
    import medeq

    names = ["<script>window.pwned=1;alert(1)</script>", "<img src=x onerror=\"window.pwned=2\">",
             "</script><script>window.pwned=3</script>"]
    parameters = medeq.create_parameters(names, [0.0] * 3, [1.0] * 3)
    med = medeq.MED(parameters, response_names=["\"><svg onload=\"window.pwned=4\">"], seed=3,
                    verbose=0)
    med.sample(8)
    med.evaluate(lambda x: x[0] + 2 * x[1] - x[2])
    med.sr = {med.names[0]: discovery.HallOfFame(
        [discovery.Equation(f"{names[0]} + 2*{names[1]} - {names[2]}", names, loss=0.0, score=1.0)],
        names)}
    path = med.report(tmp_path / "report.html", resolution=8, sensitivity=None)
    watched = Watched(browser)
    dialogs = []
    watched.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    watched.open(path)
    page = watched.page
    assert page.evaluate("() => window.pwned") is None and dialogs == []
    scripts = page.evaluate("() => [...document.scripts].map(s => s.text.trim().slice(0, 30))")
    assert all(s.startswith(("/**", "window.PLOTLYENV")) for s in scripts), scripts
    text = page.evaluate("() => document.body.innerText")
    for name in names + med.names:
        assert name in text                                          # shown as text
    maths = page.evaluate("() => [...document.querySelectorAll('math mi')].map(n => n.textContent)")
    assert set(names) <= set(maths)
    assert watched.errors == [] and watched.remote == []
