"""Scripts and samplers written for the original medeq, and script campaigns that survive bad runs."""

from __future__ import annotations

import json
import logging
import textwrap
from pathlib import Path

import numpy as np
import pytest

import medeq
from medeq import _jobrunner
from medeq.schedulers import LocalScheduler
from medeq.schedulers import base
from medeq.schedulers.base import Job, collect, saved_outcome
from medeq.scripts import Script, ScriptError, job_id, run_script_jobs

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def write(folder: Path, body: str, name: str = "script.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body))
    return path


def run(path, samples, outputs, scheduler=None, **kwargs):
    script = Script.load(path)
    return run_script_jobs(script, scheduler or LocalScheduler(max_workers=2),
                           np.asarray(samples, float), list(script.parameters.index), outputs,
                           verbose=0, **kwargs)


def runs(outcome) -> int:
    """How many times a job ran (the test scripts append a line to ``runs`` in their folder)."""
    return len((Path(outcome.logs) / "runs").read_text().splitlines())


# ------------------------------------------ 1. the parameters block is kept --

def test_statements_beside_parameters_are_kept(tmp_path):
    path = write(tmp_path, """\
        import os
        # MED PARAMETERS START
        import sys
        import medeq
        SCALE = 10.0
        print("block ran")
        parameters = medeq.create_parameters(["A", "B"], [0., 0.], [1., 1.])
        first = parameters["value"]["A"]          # after the assignment: the job's value
        # MED PARAMETERS END
        values = parameters["value"]
        response = {"scaled": SCALE * values["B"], "first": first,
                    "argv": len(sys.argv), "medeq": float("medeq" in sys.modules)}
    """)
    samples = [[0.25, 0.5], [0.75, 0.125]]
    outcomes = run(path, samples, tmp_path / "out")
    for outcome, (a, b) in zip(outcomes, samples):
        assert outcome.value == {"scaled": 10 * b, "first": a, "argv": 1, "medeq": 0.0}
        # the block ran once in the job (create_parameters itself was not run again)
        assert (Path(outcome.logs) / "stdout.log").read_text().count("block ran") == 1


def test_reference_block_skips_importing_medeq(tmp_path):
    path = write(tmp_path, (EXAMPLES / "simulation_script.py").read_text()
                 + 'import sys\nextra = {"medeq": "medeq" in sys.modules}\n')
    outcome, = run(path, [[1.0, 2.0, 3.0]], tmp_path / "out")
    assert outcome.value == 5.0 and outcome.extra == {"medeq": False}


def test_block_building_parameters_in_steps_runs_as_written(tmp_path):
    path = write(tmp_path, """\
        # MED PARAMETERS START
        import medeq
        parameters = medeq.create_parameters(["A", "B", "X"], [0., 0., 0.], [1., 1., 1.])
        parameters = parameters.drop("X")
        names = list(parameters.index)
        # MED PARAMETERS END
        response = [parameters["value"]["A"], parameters["value"]["B"], len(names)]
    """)
    script = Script.load(path)
    assert list(script.parameters.index) == ["A", "B"]
    outcome, = run(path, [[0.5, 0.25]], tmp_path / "out")
    assert outcome.value == [0.5, 0.25, 2]


def test_medeq_used_after_the_block_stays_imported(tmp_path):
    path = write(tmp_path, """\
        # MED PARAMETERS START
        import medeq
        parameters = medeq.create_parameters(["A"], [0.], [1.])
        # MED PARAMETERS END
        response = float(len(medeq.create_parameters(["x", "y"], [0., 0.], [1., 1.])))
    """)
    outcome, = run(path, [[0.5]], tmp_path / "out")
    assert outcome.value == 2.0


def test_block_inside_a_function(tmp_path):
    path = write(tmp_path, """\
        def main():
            # MED PARAMETERS START
            import sys
            import medeq
            parameters = medeq.create_parameters(["A"], [0.], [1.])
            # MED PARAMETERS END
            return parameters["value"]["A"] * 2 + len(sys.argv)

        if __name__ == "__main__":
            response = main()
    """)
    outcome, = run(path, [[0.25]], "relative-outputs")      # also a relative outputs folder
    assert outcome.value == 1.5


def test_block_that_never_assigns_parameters_by_name_is_refused(tmp_path):
    path = write(tmp_path, """\
        # MED PARAMETERS START
        import medeq
        globals()["parameters"] = medeq.create_parameters(["A"], [0.], [1.])
        # MED PARAMETERS END
        response = 1.0
    """)
    with pytest.raises(ScriptError, match="never assigns `parameters`"):
        Script.load(path)


def test_reference_style_campaign_with_dict_responses(tmp_path):
    path = write(tmp_path, """\
        # In file `simulation_script.py`
        # MED PARAMETERS START
        import sys
        import medeq

        parameters = medeq.create_parameters(
            ["A", "B"],
            [-5., -5.],
            [10., 10.],
        )
        # MED PARAMETERS END

        values = parameters["value"]
        print("python", sys.version_info[0])
        response = {"sum": values["A"] + values["B"], "diff": values["A"] - values["B"]}
    """)
    med = medeq.MED(str(path), scheduler=LocalScheduler(max_workers=2), seed=3, verbose=0)
    med.sample(4)
    med.evaluate()
    assert med.response_names == ["sum", "diff"]
    np.testing.assert_allclose(med.responses[:, 0], med.evaluated.sum(axis=1))
    np.testing.assert_allclose(med.responses[:, 1], med.evaluated[:, 0] - med.evaluated[:, 1])


# ---------------------------------------------------- 2. @medeq.sampler --

def test_sampler_decorator_returns_the_function_with_sample(parameters):
    calls = []

    @medeq.sampler
    def s(med, n):                      # any argument order: .sample forwards unchanged
        calls.append((med, n))
        return np.full((n, 2), 0.5)

    assert callable(s) and s.__name__ == "s"
    med = medeq.MED(parameters, seed=1, verbose=0)
    np.testing.assert_array_equal(s.sample(med, 5), s(med, 5))
    assert calls == [(med, 5), (med, 5)]

    @medeq.sampler
    def user_sampler(n, med=None):      # the original docs' signature
        calls.append((n, med))
        return np.full((n, len(med.parameters)), 0.25)

    med = medeq.MED(parameters, sampler=user_sampler, seed=1, verbose=0)
    assert med.sampler is user_sampler
    np.testing.assert_allclose(med.sample(3), np.full((3, 2), -1.25))
    assert calls[-1] == (3, med)


def test_any_object_with_sample_is_a_sampler(parameters):
    class Corner:
        def sample(self, n, med):
            return np.zeros((n, len(med.parameters)))

    med = medeq.MED(parameters, sampler=Corner(), verbose=0)
    np.testing.assert_array_equal(med.sample(2), [[-5.0, -5.0], [-5.0, -5.0]])


# ------------------------------------------- 3. bad runs keep the good ones --

BAD = """\
# MED PARAMETERS START
import medeq
parameters = medeq.create_parameters(["A"], [0.], [10.])
# MED PARAMETERS END
open("runs", "a").write("run\\n")
a = round(parameters["value"]["A"])
if a == 1:
    response = "not a number"
elif a == 2:
    response = None
elif a == 3:
    response = {"other": a}
else:
    response = {"x": a, "y": 2 * a}
"""


def test_bad_responses_become_nan_with_their_logs_and_are_not_cached(tmp_path):
    path = write(tmp_path, BAD)
    samples = [[0.0], [1.0], [2.0], [3.0], [4.0]]
    outcomes = run(path, samples, tmp_path / "out")
    assert outcomes[0].value == {"x": 0.0, "y": 0.0} and outcomes[4].value == {"x": 4.0, "y": 8.0}
    assert "'not a number'" in outcomes[1].error and "None" in outcomes[2].error
    assert "keys ['other']" in outcomes[3].error and "keys ['x', 'y'] were expected" in outcomes[3].error
    for outcome, sample in zip(outcomes[1:4], samples[1:4]):
        assert outcome.failed and outcome.logs == str(tmp_path / "out" / job_id(sample))
        assert saved_outcome(Path(outcome.logs)) is None          # never reused
    again = run(path, samples, tmp_path / "out")
    assert [runs(o) for o in again] == [1, 2, 2, 2, 1]             # bad ones ran again


def test_campaign_keeps_good_samples_and_warns_per_job(tmp_path):
    path = write(tmp_path, BAD)
    steps = medeq.sampler(lambda n, med: np.arange(n)[:, None] / 10.0)   # A = 0, 1, 2, 3, 4
    med = medeq.MED(str(path), sampler=steps, scheduler=LocalScheduler(max_workers=2), seed=1,
                    verbose=0)
    med.augment([[5.0]], [[1.0, 2.0]])    # an earlier result with two responses
    med.sample(5)
    ids = [job_id(sample) for sample in med.queue]
    with pytest.warns(RuntimeWarning) as record:
        med.evaluate()
    message = "\n".join(str(w.message) for w in record)
    for jid in ids[1:4]:
        assert str(med.paths.outputs / jid) in message
    assert str(med.paths.outputs / ids[0]) not in message
    np.testing.assert_array_equal(med.responses[1:, 0], [0.0, np.nan, np.nan, np.nan, 4.0])
    np.testing.assert_array_equal(med.responses[1:, 1], [0.0, np.nan, np.nan, np.nan, 8.0])
    assert med.response_names == ["x", "y"] and len(med.queue) == 0


def test_response_against_earlier_results(tmp_path):
    path = write(tmp_path, BAD)
    outcomes = run(path, [[0.0], [4.0]], tmp_path / "out", response_names=["x", "z"], n_responses=2)
    assert all(o.failed and "keys ['x', 'z'] were expected" in o.error for o in outcomes)
    outcomes = run(path, [[0.0], [4.0]], tmp_path / "out", n_responses=3)
    assert all(o.failed and "but 3 value(s) were expected" in o.error for o in outcomes)


# ------------------------------------------- 4. the cache knows the script --

EDITABLE = """\
# MED PARAMETERS START
import medeq
parameters = medeq.create_parameters(["A"], [0.], [10.])
# MED PARAMETERS END
open("runs", "a").write("run\\n")
response = {formula}
"""


def test_edited_script_reruns_its_jobs(tmp_path):
    path = write(tmp_path, EDITABLE.format(formula='parameters["value"]["A"] * 2'))
    samples = [[1.0], [3.0]]
    first = run(path, samples, tmp_path / "out")
    assert [o.value for o in first] == [2.0, 6.0]
    reused = run(path, samples, tmp_path / "out")
    assert [o.value for o in reused] == [2.0, 6.0] and [runs(o) for o in reused] == [1, 1]
    result = json.loads((Path(first[0].logs) / "result.json").read_text())
    assert len(result["script_sha256"]) == 64

    path.write_text(EDITABLE.format(formula='parameters["value"]["A"] * 3'))
    edited = run(path, samples, tmp_path / "out")
    assert [o.value for o in edited] == [3.0, 9.0] and [runs(o) for o in edited] == [2, 2]


def test_resumed_campaign_reruns_jobs_of_an_edited_script(tmp_path):
    path = write(tmp_path, EDITABLE.format(formula='parameters["value"]["A"] * 2'))
    med = medeq.MED(str(path), scheduler=LocalScheduler(max_workers=2), seed=1, verbose=0)
    med.sample(2)
    run_script_jobs(med.script, med.scheduler, med.queue, ["A"], tmp_path / "c" / "outputs",
                    verbose=0)                       # ran, then the campaign was killed
    med.save(tmp_path / "c")
    path.write_text(EDITABLE.format(formula='parameters["value"]["A"] * 3'))
    loaded = medeq.MED.load(tmp_path / "c")
    loaded.evaluate()
    np.testing.assert_allclose(loaded.responses[:, 0], 3 * loaded.evaluated[:, 0])


# ------------------------------------------------- 5. limits on every job --

def test_job_logs_are_capped_keeping_the_tail(tmp_path, monkeypatch):
    monkeypatch.setattr(base, "LOG_CAP", 200_000)
    path = write(tmp_path, """\
        # MED PARAMETERS START
        import medeq
        parameters = medeq.create_parameters(["A"], [0.], [10.])
        # MED PARAMETERS END
        import subprocess, sys
        for i in range(40_000):
            print(f"line {i:06d} " + "x" * 40)
            print(f"err {i:06d} " + "y" * 40, file=sys.stderr)
        subprocess.run([sys.executable, "-c", "print('child ' * 50000); print('child done')"])
        print("the end")
        response = 1.0
    """)
    outcome, = run(path, [[1.0]], tmp_path / "out")
    assert outcome.value == 1.0
    folder = Path(outcome.logs)
    for name, last in (("stdout.log", "the end"), ("stderr.log", "err 039999")):
        text = (folder / name).read_text()
        assert len(text) <= 200_000 + 65_536
        assert text.startswith("[medeq: this log is capped at 200000 bytes; the first ")
        assert last in text.splitlines()[-1]
    assert "child done" in (folder / "stdout.log").read_text()


def test_job_killed_by_a_signal_keeps_its_output_and_status(tmp_path):
    path = write(tmp_path, """\
        # MED PARAMETERS START
        import medeq
        parameters = medeq.create_parameters(["A"], [0.], [10.])
        # MED PARAMETERS END
        import os, signal
        print("about to die", flush=True)
        os.kill(os.getpid(), signal.SIGTERM)
        response = 1.0
    """)
    outcome, = run(path, [[1.0]], tmp_path / "out")
    assert outcome.failed and "killed by SIGTERM" in outcome.error
    assert (Path(outcome.logs) / "stdout.log").read_text() == "about to die\n"


def started_job(tmp_path: Path, name: str, seconds: float) -> Job:
    """A job that marks itself started (as the job runner does), then sleeps."""
    directory = tmp_path / name
    directory.mkdir()
    code = (f"import json, time; json.dump({{'time': time.time()}}, open({_jobrunner.STARTED!r}, 'w'));"
            f" time.sleep({seconds})")
    return Job(id=name, args=("-c", code), directory=directory)


def test_overrun_warning_once_without_a_time_limit(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(base, "OVERRUN_MIN", 1.0)
    monkeypatch.setattr(base, "WATCH_INTERVAL", 0.1)
    jobs = [started_job(tmp_path, f"quick{i}", 0.0) for i in range(3)]
    jobs.append(started_job(tmp_path, "hung", 4.0))
    with caplog.at_level(logging.WARNING, logger="medeq.schedulers.base"):
        collect(LocalScheduler(max_workers=4), jobs)
    warnings = [r.getMessage() for r in caplog.records if "no time limit" in r.getMessage()]
    assert len(warnings) == 1
    assert "hung" in warnings[0] and str(tmp_path / "hung") in warnings[0]
    assert "quick" not in warnings[0] and "timeout=" in warnings[0]

    caplog.clear()
    (tmp_path / "limited").mkdir()
    jobs = [started_job(tmp_path / "limited", f"q{i}", 0.0) for i in range(3)]
    jobs.append(started_job(tmp_path / "limited", "slow", 2.5))
    with caplog.at_level(logging.WARNING, logger="medeq.schedulers.base"):
        collect(LocalScheduler(max_workers=4, timeout=60), jobs)
    assert not [r for r in caplog.records if "no time limit" in r.getMessage()]


def test_time_limits_of_the_builtin_schedulers():
    assert LocalScheduler().time_limit is None and LocalScheduler(timeout=5).time_limit == 5
    assert medeq.SlurmScheduler().time_limit is None
    assert medeq.SlurmScheduler(time="00:10:00").time_limit == "00:10:00"
    assert medeq.DaskScheduler("tcp://127.0.0.1:1", timeout=3).time_limit == 3
