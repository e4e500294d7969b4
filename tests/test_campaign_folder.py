"""A campaign folder you can trust: nothing in it runs, nothing in it is lost (issue #12).

One test (or group) per problem of the issue:
1. equations.csv is data: hostile text never runs;
2. a huge power (9**9**9) is rejected at once instead of hanging;
3. the report escapes every user-given name (MathML included; the browser
   check is in test_browser.py);
4. parameter names that clash with result columns are rejected;
5. results.csv / queue.csv are read by column name;
6. concurrent writers (test_lock.py);
7. results finished after a crash are shown at load (here, and the SIGKILL
   test in test_scripts.py);
8. a hand-edited setup.toml gives an error naming the field and the file,
   and the CLI exits 3.
"""

import re
import time
import warnings

import numpy as np
import pandas as pd
import pytest
import sympy as sp
from conftest import instrument

import medeq
from medeq.cli import main
from medeq.discovery import Equation, HallOfFame
from medeq.discovery.parsing import parse

#: Equation texts that would run code (or hang) if they reached eval/sympify.
HOSTILE_EQUATIONS = [
    "__import__('os').system('touch {marker}') + A",
    "A + (lambda: __import__('os').system('touch {marker}'))()",
    "A.__class__.__mro__[-1].__subclasses__()",
    "exec('open(\"{marker}\", \"w\")')",
    "eval('1') + A",
    "open('{marker}', 'w')",
    "[A for A in ()]",
    "A if __import__('os').system('touch {marker}') else B",
    "sin.__globals__",
    "A; import os",
]


def saved(med, folder):
    med.save(folder)
    return folder


@pytest.fixture
def folder(tmp_path, evaluated_med):
    hof = HallOfFame([Equation("A + B", ["A", "B"], loss=0.0, score=1.0)], ["A", "B"])
    evaluated_med.sr = {"response": hof}
    return saved(evaluated_med, tmp_path / "c")


def write_equations(folder, texts):
    frame = pd.DataFrame({"response": "response", "complexity": range(1, len(texts) + 1),
                          "loss": 1.0, "score": 0.5, "equation": texts})
    frame.to_csv(folder / "equations.csv", index=False)


# ------------------------------------------------------------ 1, 2: equations
def test_hostile_equation_text_never_runs(folder, tmp_path, capsys):
    marker = tmp_path / "pwned"
    texts = [t.format(marker=marker) for t in HOSTILE_EQUATIONS] + ["2*A + B"]
    write_equations(folder, texts)
    with pytest.warns(RuntimeWarning) as caught:
        loaded = medeq.MED.load(folder)
    dropped = [str(w.message) for w in caught if "equation dropped" in str(w.message)]
    assert len(dropped) == len(HOSTILE_EQUATIONS)
    for line, message in enumerate(dropped, start=2):    # each names the file and the row
        assert f"equations.csv, line {line}:" in message
    assert [str(e) for e in loaded.sr["response"]] == ["2*A + B"]   # the rest loads
    for command in (["show", folder], ["export", folder, "--format", "json"],
                    ["report", folder, "-o", tmp_path / "r.html"]):
        assert main([str(a) for a in command]) == 0
    capsys.readouterr()
    assert not marker.exists()


@pytest.mark.parametrize("text", HOSTILE_EQUATIONS)
def test_hostile_equation_given_to_predict(evaluated_med, tmp_path, text):
    marker = tmp_path / "pwned"
    with pytest.raises(ValueError, match="could not parse the equation"):
        evaluated_med.predict([[1.0, 2.0]], equation=text.format(marker=marker))
    assert not marker.exists()


@pytest.mark.parametrize("text", ["9**9**9*A", "A**(9**9)", "(10**300)**300 + A", "A**1e6",
                                  "9" * 500 + "*A", "+".join(["A"] * 3000),
                                  "(" * 300 + "A" + ")" * 300])
def test_huge_or_deep_equations_are_rejected_fast(text):
    start = time.perf_counter()
    with pytest.raises(ValueError, match="could not parse the equation"):
        parse(text, ["A", "B"])
    assert time.perf_counter() - start < 1.0


def test_big_power_in_equations_csv_does_not_hang_load(folder):
    write_equations(folder, ["9**9**9*A", "A*B"])
    start = time.perf_counter()
    with pytest.warns(RuntimeWarning, match=r"line 2: equation dropped.*exponent"):
        loaded = medeq.MED.load(folder)
    assert time.perf_counter() - start < 30
    assert [str(e) for e in loaded.sr["response"]] == ["A*B"]


A, B, x = sp.symbols("A B x")


@pytest.mark.parametrize("text, names, expected", [
    ("2*A^2 + sqrt(B)", ["A", "B"], 2 * A**2 + sp.sqrt(B)),
    ("-A + exp(-B/2) * log(A) - abs(B)", ["A", "B"], -A + sp.exp(-B / 2) * sp.log(A) - sp.Abs(B)),
    ("sin(x) + cos(x) + tan(x) + asin(x) + acos(x) + atan(x)", ["x"],
     sp.sin(x) + sp.cos(x) + sp.tan(x) + sp.asin(x) + sp.acos(x) + sp.atan(x)),
    ("sinh(x)*cosh(x)*tanh(x)", ["x"], sp.sinh(x) * sp.cosh(x) * sp.tanh(x)),
    ("pi*E + lambda", ["lambda"], sp.pi * sp.E + sp.Symbol("lambda")),
    ("2*pi", ["pi"], 2 * sp.Symbol("pi")),
    ("mu [Pa s] * 2", ["mu [Pa s]"], 2 * sp.Symbol("mu [Pa s]")),
    ("1.5e-3*A**-2", ["A"], sp.Float("1.5e-3") / A**2),
])
def test_safe_parser_reads_real_equations(text, names, expected):
    assert parse(text, names) == expected


def test_equation_round_trips_through_the_parser():
    names = ["A", "B"]
    hof = HallOfFame([Equation("0.5*sin(A)/B - 3.25*sqrt(Abs(A)) + B**3", names)], names)
    again = HallOfFame.from_frame(hof.to_frame(), names)
    assert again[0] == hof[0]


# ------------------------------------------------------------- 3: the report
HOSTILE_NAMES = ["<script>window.pwned=1</script>", "<img src=x onerror=window.pwned=1>"]


def test_report_escapes_hostile_names_everywhere(tmp_path):
    parameters = medeq.create_parameters(HOSTILE_NAMES, [0.0, 0.0], [1.0, 1.0])
    med = medeq.MED(parameters, response_names=['"><svg onload=window.pwned=1>'], seed=1, verbose=0)
    med.sample(6)
    med.evaluate(lambda x: x[0] + 2 * x[1])
    names = med.parameter_names
    med.sr = {med.names[0]: HallOfFame([Equation(f"{names[0]} + 2*{names[1]}", names)], names)}
    page = med.report(tmp_path / "r.html", sensitivity=None).read_text()
    for name in HOSTILE_NAMES + med.names:
        assert name not in page
    assert "<svg onload" not in page and "<img src=x" not in page
    mathml = re.findall(r"<math .*?</math>", page)
    assert mathml and "&lt;script&gt;window.pwned=1&lt;/script&gt;" in mathml[0]


# ------------------------------------------------------------ 4: name clashes
@pytest.mark.parametrize("name", ["response", "response0", "response12", "variance",
                                  "variance_y", "variance_A"])
def test_parameter_names_clashing_with_result_columns_are_rejected(name):
    parameters = medeq.create_parameters([name, "B"], [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match=rf"\['{name}'\] clash with the columns medeq generates"):
        medeq.MED(parameters)


def test_response_names_clashing_with_columns_are_rejected(parameters):
    with pytest.raises(ValueError, match="clash"):
        medeq.MED(parameters, response_names=["A"])
    with pytest.raises(ValueError, match="clash"):
        medeq.MED(parameters, response_names=["y", "variance_y"])


def test_clashing_parameter_in_a_folder_is_an_error_naming_it(folder):
    text = (folder / "setup.toml").read_text().replace('name = "A"', 'name = "response"', 1)
    (folder / "setup.toml").write_text(text)
    with pytest.raises(ValueError, match=r"setup.toml: field 'parameters'.*'response'.*clash"):
        medeq.MED.load(folder)


# --------------------------------------------------------- 5: columns by name
def test_reordered_columns_load_by_name(folder, evaluated_med):
    results = pd.read_csv(folder / "results.csv")
    results[["response", "variance", "B", "A"]].to_csv(folder / "results.csv", index=False)
    queue = pd.read_csv(folder / "queue.csv")
    queue[["B", "A"]].to_csv(folder / "queue.csv", index=False)
    loaded = medeq.MED.load(folder)
    pd.testing.assert_frame_equal(loaded.results, evaluated_med.results)


@pytest.mark.parametrize("change, message", [
    (lambda f: f.assign(extra=1.0), r"unknown column\(s\) \['extra'\]"),
    (lambda f: f.drop(columns="variance"), r"lacks the column\(s\) \['variance'\]"),
    (lambda f: f.drop(columns="B"), r"lacks the parameter column\(s\) \['B'\]"),
    (lambda f: f.rename(columns={"variance": "A"}), r"duplicated column\(s\) \['A'\]"),
])
def test_unknown_missing_or_duplicated_columns_are_errors_naming_the_file(folder, change, message):
    change(pd.read_csv(folder / "results.csv")).to_csv(folder / "results.csv", index=False)
    with pytest.raises(ValueError, match=message) as err:
        medeq.MED.load(folder)
    assert "results.csv" in str(err.value)


def test_truncated_last_line_is_dropped_with_a_warning(folder):
    (folder / "queue.csv").write_text("A,B\n1.0,2.0\n3.0,")
    results = folder / "results.csv"
    results.write_text(results.read_text() + "1.0,2.0,0.")  # a row cut while being appended
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = medeq.MED.load(folder)
    messages = [str(w.message) for w in caught]
    assert any(re.search(r"results.csv: the last line \(8\) is truncated", m) for m in messages)
    assert any(re.search(r"queue.csv: the last line \(3\) is truncated", m) for m in messages)
    assert loaded.n_evaluated == 6
    np.testing.assert_array_equal(loaded.queue, [[1.0, 2.0]])
    results.write_text("A,B,variance,response\n1,2,,3\n")   # a saved row lost
    with pytest.raises(ValueError, match="results.csv has 1 rows but .* records 6"):
        medeq.MED.load(folder)


def test_non_finite_and_out_of_bounds_rows_are_warned_about(folder):
    results = pd.read_csv(folder / "results.csv")
    results.loc[1, "A"] = np.nan
    results.loc[2, "response"] = np.inf
    results.loc[3, "B"] = 99.0
    results.to_csv(folder / "results.csv", index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = medeq.MED.load(folder)
    messages = " | ".join(str(w.message) for w in caught)
    assert "non-finite parameter values (lines [3])" in messages
    assert "infinite responses or variances (lines [4])" in messages
    assert "outside the parameter bounds (lines [5])" in messages
    assert loaded.n_evaluated == 6


# -------------------------------------------------------- 8: setup.toml fields
@pytest.mark.parametrize("old, new, field", [
    ("seed = 42", 'seed = "42"', "seed"),
    ("seed = 42", "seed = -1", "seed"),
    ("verbose = 0", "verbose = [1]", "verbose"),
    ("n_results = 6", 'n_results = "six"', "n_results"),
    ('name = "A"', "name = 3", "parameters[0].name"),
    ("min = -5.0", "min = [1, 2]", "parameters[0].min"),
    ("min = -5.0", 'min = "low"', "parameters"),
    ('origin = "evaluated"', 'origin = "magic"', "epochs[0].origin"),
    ("end = 6", 'end = "6"', "epochs[0].end"),
    ('name = "DVASampler"', "name = 1", "sampler.name"),
    ("[sampler.settings]", "[sampler.settings]\nbogus = 1", "sampler.settings"),
])
def test_hand_edited_setup_names_the_field_and_file(folder, capsys, old, new, field):
    setup = folder / "setup.toml"
    text = setup.read_text()
    assert old in text
    setup.write_text(text.replace(old, new, 1))
    with pytest.raises(ValueError) as err:
        medeq.MED.load(folder)
    assert "setup.toml" in str(err.value) and f"'{field}'" in str(err.value), err.value
    assert main(["show", str(folder)]) == 3
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and f"'{field}'" in error[0] and "setup.toml" in error[0]


# ---------------------------------------- settings from the folder are not commands
def test_saved_python_executable_is_not_run_without_trust(evaluated_med, tmp_path):
    marker = tmp_path / "pwned"
    evil = ["/bin/sh", "-c", f"touch {marker}"]
    evaluated_med.scheduler = medeq.LocalScheduler(max_workers=2, python_executable=evil)
    folder = saved(evaluated_med, tmp_path / "c")
    with pytest.warns(RuntimeWarning, match=r"\['python_executable'\].*trust_settings=True"):
        loaded = medeq.MED.load(folder)
    assert loaded.scheduler.python_executable != evil and loaded.scheduler.max_workers == 2
    trusted = medeq.MED.load(folder, trust_settings=True)
    assert trusted.scheduler.python_executable == evil
    loaded.sample(2)
    loaded.evaluate(instrument)       # runs on the scheduler: this process's Python
    assert not marker.exists()


def test_medeq_run_trust_settings_flag(tmp_path, capsys):
    from medeq.cli import build_parser

    args = build_parser().parse_args(["run", "--dir", "x", "--trust-settings", "--wait"])
    assert args.trust_settings and args.wait


# ----------------------------------------------------- 7: recovery at load
def test_rows_written_after_the_last_save_are_shown_at_load(evaluated_med, tmp_path):
    folder = saved(evaluated_med, tmp_path / "c")
    evaluated_med.sample(2)
    evaluated_med.evaluate(instrument)
    results = (folder / "results.csv").read_text()
    setup = (folder / "setup.toml").read_text()
    evaluated_med.sample(2)
    evaluated_med.evaluate(instrument)
    (folder / "setup.toml").write_text(setup)     # "crash": setup.toml of the previous save
    assert results != (folder / "results.csv").read_text()
    with pytest.warns(RuntimeWarning, match="recovering them"):
        loaded = medeq.MED.load(folder)
    assert loaded.n_evaluated == 10 and loaded.epoch_origins[-1] == "recovered"
    assert len(loaded.results) == 10


def test_untrusted_sbatch_options_are_left_out(evaluated_med, tmp_path):
    evaluated_med.scheduler = medeq.SlurmScheduler(partition="debug", bb="capacity=1G")
    folder = saved(evaluated_med, tmp_path / "c")
    with pytest.warns(RuntimeWarning, match=r"settings \['bb'\]"):
        loaded = medeq.MED.load(folder)
    assert loaded.scheduler.sbatch_options == {"partition": "debug"}
    trusted = medeq.MED.load(folder, trust_settings=True)
    assert trusted.scheduler.sbatch_options == {"partition": "debug", "bb": "capacity=1G"}
