"""Benchmark: concurrent writers of one campaign folder lose nothing.

W processes each add R results to the same folder at once, the way two
accidental ``medeq run --dir`` or two cluster jobs would: load the folder,
add one result (``augment``), and try again when the folder is locked or was
changed by another writer. Afterwards every one of the W*R results must be
in the folder.

``--unlocked`` emulates medeq before the writer lock: each writer loads,
adds its result to a detached copy and saves it over the folder (last
writer wins), to show what the lock prevents.

Usage::

    python benchmarks/writers.py                     # 2 and 4 writers, 15 results each
    python benchmarks/writers.py --unlocked          # the same without the lock

Prints a table and a summary line.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WRITER = """\
import sys, time
import medeq
from medeq.lock import CampaignChanged, CampaignLocked
folder, tag, n, unlocked = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
done = retries = 0
while done < n:
    try:
        med = medeq.MED.load(folder)
        if unlocked:
            med.paths = None          # a detached copy: no lock, no check (medeq before #12)
        med.augment([[tag, done / n]], [100 * tag + done])
        if unlocked:
            med.save(folder)
        done += 1
    except (CampaignLocked, CampaignChanged):
        retries += 1
        time.sleep(0.02)
print(retries)
"""


def run(writers: int, results: int, unlocked: bool) -> tuple[int, int, float]:
    import medeq

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "campaign"
        parameters = medeq.create_parameters(["A", "B"], [0.0, 0.0], [100.0, 1.0])
        med = medeq.MED(parameters, seed=1, verbose=0)
        med.augment([[0.0, 0.0], [1.0, 1.0]], [0.0, 1.0])
        med.save(folder)
        start = time.perf_counter()
        processes = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder), str(tag + 2),
                                       str(results), "1" if unlocked else "0"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for tag in range(writers)]
        retries = 0
        for process in processes:
            out, err = process.communicate()
            if process.returncode:
                raise RuntimeError(f"a writer failed: {err.strip().splitlines()[-1]}")
            retries += int(out.split()[-1])
        elapsed = time.perf_counter() - start
        kept = medeq.MED.load(folder).n_evaluated - 2
    return kept, retries, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--results", type=int, default=15, help="results added by each writer")
    parser.add_argument("--unlocked", action="store_true", help="emulate medeq without the lock")
    args = parser.parse_args()
    mode = "unlocked (before #12)" if args.unlocked else "writer lock"
    print(f"{'writers':>8} {'expected':>9} {'kept':>6} {'retries':>8} {'seconds':>8}   ({mode})")
    lost = 0
    for writers in args.writers:
        kept, retries, elapsed = run(writers, args.results, args.unlocked)
        expected = writers * args.results
        lost += expected - kept
        print(f"{writers:>8} {expected:>9} {kept:>6} {retries:>8} {elapsed:>8.1f}")
    print(f"summary: {lost} result(s) lost ({mode})")


if __name__ == "__main__":
    main()
