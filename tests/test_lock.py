"""The writer lock of a campaign folder: concurrent writers lose nothing (issue #12, problem 6)."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from conftest import instrument
from test_cli import MEDEQ, SCRIPT, assert_one_line_error

import medeq
from medeq.cli import main
from medeq.lock import CampaignChanged, CampaignLocked, writer_lock

HOLDER = """\
import sys, time
from medeq.lock import writer_lock
with writer_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""

WRITER = """\
import sys, time
import medeq
from medeq.lock import CampaignChanged, CampaignLocked
folder, tag, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
done = retries = 0
while done < n:
    try:
        med = medeq.MED.load(folder)
        med.augment([[tag, done / n]], [100 * tag + done])
        done += 1
    except (CampaignLocked, CampaignChanged):
        retries += 1
        time.sleep(0.02)
print(retries)
"""


def hold_lock(folder, seconds=60):
    """A separate process holding the folder's writer lock (until killed or ``seconds``)."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder), str(seconds)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    return process


@pytest.fixture
def folder(evaluated_med, tmp_path):
    evaluated_med.save(tmp_path / "c")
    return tmp_path / "c"


@pytest.mark.slow
def test_two_processes_writing_one_folder_lose_nothing(parameters, tmp_path):
    folder = tmp_path / "c"
    med = medeq.MED(parameters, seed=1, verbose=0)
    med.augment([[0.0, 0.0], [1.0, 1.0]], [0.0, 1.0])
    med.save(folder)
    n = 10
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder), str(tag), str(n)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for tag in (2.0, 3.0)]
    for writer in writers:
        out, err = writer.communicate(timeout=600)
        assert writer.returncode == 0, err
    loaded = medeq.MED.load(folder)
    assert loaded.n_evaluated == 2 + 2 * n             # every result of both writers is there
    rows = {(a, round(b * n)) for a, b in loaded.evaluated[2:]}
    assert rows == {(tag, i) for tag in (2.0, 3.0) for i in range(n)}
    np.testing.assert_array_equal(loaded.responses[2:, 0],
                                  100 * loaded.evaluated[2:, 0] + np.round(loaded.evaluated[2:, 1] * n))


def test_second_writer_gets_one_line_naming_folder_and_holder(folder, evaluated_med, capsys):
    holder = hold_lock(folder)
    try:
        with pytest.raises(CampaignLocked) as err:
            evaluated_med.sample(2)
        message = str(err.value)
        assert str(folder.resolve()) in message and "\n" not in message
        assert f"host {socket.gethostname()}, pid {holder.pid}, since 20" in message
        for write in (lambda: evaluated_med.evaluate(instrument),
                      lambda: evaluated_med.augment([[1.0, 1.0]], [2.0]),
                      lambda: evaluated_med.save(),
                      lambda: evaluated_med.explore(instrument, budget=2)):
            with pytest.raises(CampaignLocked):
                write()
        # Reading never needs the lock.
        loaded = medeq.MED.load(folder)
        assert loaded.n_evaluated == 6
        assert main(["show", str(folder)]) == 0
        assert main(["export", str(folder), "--format", "csv"]) == 0
        assert main(["discover", str(folder), "--budget", "1"]) == 4
        assert f"pid {holder.pid}" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()


def test_lock_of_a_killed_process_is_taken_over_with_a_warning(folder, evaluated_med):
    holder = hold_lock(folder)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with pytest.warns(RuntimeWarning, match=rf"took over the writer lock .* pid {holder.pid}"):
        evaluated_med.sample(1)
    assert len(medeq.MED.load(folder).queue) == 1
    evaluated_med.sample(1)          # released cleanly: no warning the next time
    assert not (folder / ".medeq-writer.json").exists()


def test_stale_campaign_is_not_written_over(folder, evaluated_med):
    other = subprocess.run(
        [sys.executable, "-c", "import sys, medeq; m = medeq.MED.load(sys.argv[1]); m.sample(3)",
         str(folder)], capture_output=True, text=True, check=False)
    assert other.returncode == 0, other.stderr
    with pytest.raises(CampaignChanged, match="saved by another process"):
        evaluated_med.sample(1)
    assert len(medeq.MED.load(folder).queue) == 3       # the other process's work is kept


def test_lock_is_reentrant_and_released(folder):
    with writer_lock(folder) as lock:
        with writer_lock(folder):
            assert lock.depth == 2
        assert (folder / ".medeq-writer.json").exists()
    assert lock.depth == 0 and not (folder / ".medeq-writer.json").exists()


@pytest.mark.slow
def test_medeq_run_second_writer_fails_or_waits(tmp_path):
    script = tmp_path / "linear.py"
    script.write_text(SCRIPT)
    folder = tmp_path / "camp"
    medeq.MED(script, seed=2, verbose=0).save(folder)
    holder = hold_lock(folder, seconds=4)
    try:
        proc = subprocess.run([*MEDEQ, "run", "--dir", folder, "--budget", "3", "-q"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert_one_line_error(proc, 4)
        assert str(folder.resolve()) in proc.stderr and f"pid {holder.pid}" in proc.stderr
        assert "--wait" in proc.stderr
        start = time.monotonic()
        proc = subprocess.run([*MEDEQ, "run", "--dir", folder, "--budget", "3", "-q", "--wait"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert holder.poll() is not None and time.monotonic() - start > 0.5
    finally:
        holder.kill()
        holder.wait()
    assert medeq.MED.load(folder).n_evaluated == 3
