"""The ``medeq`` command: run, inspect and export campaigns from a shell.

::

    medeq run SCRIPT [--dir DIR] [--budget N] [--batch B] [--scheduler local|slurm|dask]
                     [--workers W] [--target-uncertainty U] [--time-limit S] [--discover]
                     [--mode auto|async|batch] [--cancel-on-stop]
                     [--response-units UNIT [UNIT ...] | NAME=UNIT ...]
    medeq run --dir DIR            # resume an interrupted or finished campaign
    medeq show DIR
    medeq discover DIR [--response R] [--binary-operators ...] [--unary-operators ...]
                       [--budget SECONDS] [--dimensional-analysis auto|on|off]
    medeq report DIR [--output FILE]
    medeq export DIR --format csv|json [--output FILE]
    medeq demo [--dir DIR]

Exit codes: ``0`` success; ``1`` the work failed (e.g. every evaluation of a
batch failed); ``2`` bad command-line arguments; ``3`` a missing or invalid
input (script, campaign folder); ``4`` the campaign folder is being written
by another process (``medeq run --wait`` waits for it); ``130`` interrupted
by Ctrl-C (everything finished so far is saved). Errors are one line on stderr; ``--debug`` adds
the traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import tempfile
import traceback
import warnings
from contextlib import ExitStack
from pathlib import Path

from .lock import CampaignChanged, CampaignLocked, writer_lock

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_LOCKED = 4
EXIT_INTERRUPTED = 130

#: Evaluations per parameter when ``medeq run`` is given no stopping option.
DEFAULT_BUDGET_PER_PARAMETER = 10


class UsageError(Exception):
    """Bad command-line arguments (exit code 2)."""


class InputError(Exception):
    """A missing or invalid script or campaign folder (exit code 3)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


# ------------------------------------------------------------------ arguments
def _positive(kind):
    noun = "integer" if kind is int else "number"

    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            value = -1
        if not value > 0 or not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a positive {noun}; got {text!r}")
        return value
    return convert


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"seed must be a non-negative integer; got {text!r}")
    return value


def _key_value(text):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (e.g. time=00:10:00); got {text!r}")
    return key.replace("-", "_"), value


def _unit(text):
    """A response unit ``UNIT`` or ``NAME=UNIT``, checked with pint."""
    from .parameters import check_unit

    name, sep, unit = text.rpartition("=")
    try:
        return (name.strip() if sep else None, check_unit(unit, f"--response-units {text!r}"))
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _response_units(pairs):
    """``--response-units`` as a list (by position) or a dict (``NAME=UNIT``)."""
    if not pairs:
        return None
    named = [name is not None for name, _ in pairs]
    if all(named):
        return {name: unit for name, unit in pairs}
    if any(named):
        raise UsageError("--response-units takes either units in response order or "
                         "NAME=UNIT pairs, not a mix")
    return [unit for _, unit in pairs]


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks and debug logs")
    group = common.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", dest="verbose", action="store_const", const=0,
                       default=argparse.SUPPRESS, help="print only the results")
    group.add_argument("-v", "--verbose", type=int, choices=range(6), metavar="LEVEL",
                       default=argparse.SUPPRESS, help="output level 0-5 (default 1)")
    return common


def _operators() -> argparse.ArgumentParser:
    ops = argparse.ArgumentParser(add_help=False)
    ops.add_argument("--binary-operators", nargs="+", metavar="OP",
                     help="operators with two arguments, e.g. + - '*' / ^ (default + - * / ^)")
    ops.add_argument("--unary-operators", nargs="+", metavar="OP",
                     help="operators with one argument, e.g. sin exp log sqrt (default none)")
    return ops


def build_parser() -> argparse.ArgumentParser:
    """The ``medeq`` argument parser (sub-commands run, show, discover, report, export, demo)."""
    common, ops = _common(), _operators()
    parser = _Parser(
        prog="medeq",
        description="Autonomously explore a system's responses and discover the equations "
                    "behind them.",
        epilog="Exit codes: 0 success, 1 failure while working, 2 bad arguments, "
               "3 missing or invalid script/folder, 4 folder in use by another writer, "
               "130 interrupted (progress saved).",
        parents=[common],
    )
    parser.set_defaults(debug=False, verbose=1)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser(
        "run", parents=[common, ops], help="explore a simulation script (or resume a campaign)",
        description="Run a whole campaign on a simulation script: keep every worker busy "
                    "(a new sample as each job ends, the surrogate updated with each result), "
                    "until a stopping condition, then optionally discover equations. Saved "
                    "after every result; 'medeq run --dir "
                    "DIR' (or the same 'medeq run SCRIPT' again) resumes where it stopped. "
                    "Without --budget, --target-uncertainty or --time-limit the budget is "
                    f"{DEFAULT_BUDGET_PER_PARAMETER} evaluations per parameter; on resume, "
                    "options not given are taken from the previous run.",
    )
    run.add_argument("script", nargs="?", help="simulation script with a '# MED PARAMETERS "
                     "START/END' block (omit to resume the campaign in --dir)")
    run.add_argument("--dir", help="campaign folder (default: med_<script name>)")
    run.add_argument("--wait", action="store_true",
                     help="if another process is writing the campaign folder, wait for it "
                          "instead of stopping with an error")
    run.add_argument("--trust-settings", action="store_true",
                     help="on resume, use the command settings saved in the folder's "
                          "setup.toml (the scheduler's python_executable, a Dask address); "
                          "without it they are ignored with a warning")
    run.add_argument("--budget", type=_positive(int), metavar="N",
                     help="stop when the campaign holds N results in total")
    run.add_argument("--batch", type=_positive(int), metavar="B",
                     help="samples per batch: batch mode (default: parameters, rounded up to "
                          "the workers)")
    run.add_argument("--target-uncertainty", type=_positive(float),
                     metavar="U", help="stop when 95%% of the space has a surrogate standard "
                     "deviation below U times the response's spread (e.g. 0.05)")
    run.add_argument("--time-limit", type=_positive(float), metavar="SECONDS",
                     help="start no new job after SECONDS (running ones are awaited, or "
                          "cancelled with --cancel-on-stop)")
    run.add_argument("--mode", choices=["auto", "async", "batch"],
                     help="async: keep every worker busy, one sample per finished job; batch: "
                          "wait for a whole batch, refit, repeat (default auto: async with more "
                          "than one worker and no --batch)")
    run.add_argument("--cancel-on-stop", action="store_true", default=None,
                     help="cancel the jobs in flight when a stopping condition holds")
    run.add_argument("--scheduler", choices=["local", "slurm", "dask"],
                     help="where jobs run (default local)")
    run.add_argument("--workers", type=_positive(int), metavar="W",
                     help="jobs at once (local: processes, default all cores; slurm: jobs "
                          "in flight, default the partition's CPUs; dask: local cluster workers)")
    run.add_argument("--timeout", type=_positive(float), metavar="SECONDS",
                     help="per-job time limit (local and dask)")
    run.add_argument("--sbatch", type=_key_value, action="append", metavar="KEY=VALUE",
                     help="sbatch option for --scheduler slurm (repeatable), e.g. time=00:10:00")
    run.add_argument("--dask-address", metavar="ADDRESS",
                     help="scheduler address of a running Dask cluster (default: start a local one)")
    run.add_argument("--sampler", help="sampler class for a new campaign (default DVASampler)")
    run.add_argument("--seed", type=_seed, help="random seed of a new campaign")
    run.add_argument("--response-units", type=_unit, nargs="+", metavar="UNIT",
                     help="physical units of the responses, in order or as NAME=UNIT (pint "
                          "syntax, e.g. uN 'm/s'); with units on the script's parameters, "
                          "discovery uses dimensional analysis")
    run.add_argument("--discover", action="store_true", default=None,
                     help="discover equations for every response at the end")
    run.add_argument("--discover-budget", type=_positive(float),
                     metavar="SECONDS", help="time budget of equation discovery per response")
    run.set_defaults(handler=cmd_run)

    show = sub.add_parser("show", parents=[common], help="set-up, progress, results, equations",
                          description="Print a campaign's set-up, progress, results table and "
                                      "best equations.")
    show.add_argument("dir", help="campaign folder")
    show.add_argument("--rows", type=_positive(int), default=20,
                      help="results rows to print (default 20)")
    show.set_defaults(handler=cmd_show)

    discover = sub.add_parser("discover", parents=[common, ops],
                              help="discover equations for a campaign's results",
                              description="Discover closed-form equations (symbolic "
                                          "regression) for a response; saved in the campaign.")
    discover.add_argument("dir", help="campaign folder")
    discover.add_argument("--response", help="response name (needed with several responses)")
    discover.add_argument("--budget", type=_positive(float), metavar="SECONDS",
                          default=60.0, help="search time budget in seconds (default 60)")
    discover.add_argument("--maxsize", type=_positive(int),
                          help="largest equation complexity (default 50)")
    discover.add_argument("--dimensional-analysis", choices=["auto", "on", "off"], default="auto",
                          help="search dimensionless groups: auto (default) when every parameter "
                               "and the response have units, on (units required), off")
    discover.set_defaults(handler=cmd_discover)

    report = sub.add_parser("report", parents=[common], help="write the HTML report",
                            description="Write a self-contained HTML report of a campaign.")
    report.add_argument("dir", help="campaign folder")
    report.add_argument("--output", "-o", help="report file (default DIR/report.html)")
    report.set_defaults(handler=cmd_report)

    export = sub.add_parser("export", parents=[common], help="export results as CSV or JSON",
                            description="Export a campaign's results (csv: the results table; "
                                        "json: parameters, results, queue and equations).")
    export.add_argument("dir", help="campaign folder")
    export.add_argument("--format", required=True, choices=["csv", "json"])
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.set_defaults(handler=cmd_export)

    demo = sub.add_parser("demo", parents=[common],
                          help="explore a shipped example (Stokes drag) end to end",
                          description="Copy the shipped simulation of the drag on a sphere in "
                                      "Stokes flow to a folder, explore it adaptively with "
                                      "parallel local jobs, discover its law and compare it "
                                      "with Stokes' law F = 6 pi mu R v.")
    demo.add_argument("--dir", help="folder for the demo (default: a new temporary folder)")
    demo.add_argument("--budget", type=_positive(int), default=24, metavar="N",
                      help="evaluations (default 24)")
    demo.add_argument("--workers", type=_positive(int), metavar="W",
                      help="parallel jobs (default: all cores)")
    demo.add_argument("--discover-budget", type=_positive(float),
                      default=10.0, metavar="SECONDS",
                      help="equation discovery time budget (default 10)")
    demo.add_argument("--seed", type=_seed, help="random seed")
    demo.set_defaults(handler=cmd_demo)
    return parser


# ----------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    """Run the ``medeq`` command with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    debug = "--debug" in argv
    try:
        args = parser.parse_args(argv)
    except UsageError as err:
        return _fail(EXIT_USAGE, str(err), debug)
    except SystemExit as stop:  # --help
        return stop.code if isinstance(stop.code, int) else EXIT_OK
    if args.command is None:
        return _fail(EXIT_USAGE, "give a COMMAND: run, show, discover, report, export or demo "
                                 "(see 'medeq --help')", debug)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="medeq: %(levelname)s: %(message)s")
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return args.handler(args) or EXIT_OK
        except KeyboardInterrupt:
            where = getattr(args, "campaign_dir", None)
            resume = f"; resume with: medeq run --dir {where}" if where else ""
            return _fail(EXIT_INTERRUPTED, f"interrupted; finished work is saved{resume}", args.debug)
        except UsageError as err:
            return _fail(EXIT_USAGE, str(err), args.debug)
        except InputError as err:
            return _fail(EXIT_INPUT, str(err), args.debug)
        except (CampaignLocked, CampaignChanged) as err:
            return _fail(EXIT_LOCKED, str(err), args.debug)
        except Exception as err:  # noqa: BLE001 - one line for any failure; --debug shows all
            return _fail(EXIT_FAILURE, f"{type(err).__name__}: {err}", args.debug)


def _fail(code: int, message: str, debug: bool) -> int:
    if debug and sys.exc_info()[0] is not None:
        traceback.print_exc()
    line = " ".join(str(message).split())
    print(f"medeq: error: {line}", file=sys.stderr)
    return code


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"medeq: warning: {message}", file=sys.stderr if file is None else file)


def _echo(args, text: str = "", level: int = 1) -> None:
    """Print a user-facing line when the output level is at least ``level``."""
    if args.verbose >= level:
        print(text, flush=True)


# ------------------------------------------------------------------ campaigns
def _load(directory, verbose: int | None = None, trust_settings: bool = False):
    """Load a campaign folder (reading: no lock); missing or corrupted folders are input errors."""
    from .med import MED

    path = Path(directory)
    if not (path / "setup.toml").is_file():
        if not path.exists():
            raise InputError(f"no campaign folder at {str(directory)!r}.")
        raise InputError(f"{str(directory)!r} is not a medeq campaign folder (no setup.toml).")
    try:
        med = MED.load(path, trust_settings=trust_settings)
    except (OSError, ValueError) as err:
        raise InputError(f"cannot load the campaign in {str(directory)!r}: {err}") from err
    if verbose is not None:
        med.verbose = verbose
    return med


def _new_campaign(script, args):
    from .med import MED
    from .scripts import ScriptError

    sampler = _sampler_class(args.sampler)
    try:
        return MED(script, sampler=sampler, scheduler=_scheduler(args, args.scheduler or "local"),
                   seed=args.seed, verbose=args.verbose,
                   response_units=_response_units(args.response_units))
    except FileNotFoundError as err:
        raise InputError(str(err)) from err
    except ScriptError as err:
        raise InputError(f"invalid simulation script: {err}") from err


def _sampler_class(name):
    from .samplers import BUILTIN_SAMPLERS, DVASampler

    if name is None:
        return DVASampler
    if name not in BUILTIN_SAMPLERS:
        raise UsageError(f"unknown --sampler {name!r}; choose one of {sorted(BUILTIN_SAMPLERS)}")
    return BUILTIN_SAMPLERS[name]


_KINDS = {"LocalScheduler": "local", "SlurmScheduler": "slurm", "DaskScheduler": "dask"}


def _scheduler(args, kind: str):
    """A scheduler of ``kind`` (local, slurm, dask) built from the options."""
    if args.sbatch and kind != "slurm":
        raise UsageError("--sbatch applies to --scheduler slurm only")
    if args.dask_address and kind != "dask":
        raise UsageError("--dask-address applies to --scheduler dask only")
    from . import schedulers

    if kind == "local":
        return schedulers.LocalScheduler(max_workers=args.workers, timeout=args.timeout)
    if kind == "slurm":
        if args.timeout:
            raise UsageError("--timeout does not apply to slurm; use --sbatch time=HH:MM:SS")
        return schedulers.SlurmScheduler(max_parallel=args.workers, **dict(args.sbatch or []))
    client = args.dask_address
    if client is None and args.workers:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
        args.cleanup = [client.close, cluster.close]
    return schedulers.DaskScheduler(client, timeout=args.timeout)


# ------------------------------------------------------------------- commands
def cmd_run(args) -> int:
    """``medeq run``: explore a script, or resume the campaign in ``--dir``.

    The campaign folder's writer lock is held for the whole run: a second
    ``medeq run`` on it stops with an error naming the holder, or waits
    with ``--wait``.
    """
    if args.script is None and args.dir is None:
        raise UsageError("give a SCRIPT to start a campaign, or --dir DIR to resume one")
    directory = Path(args.dir if args.dir else f"med_{Path(args.script).stem}")
    args.campaign_dir = directory
    new = None
    if not (directory / "setup.toml").is_file():
        if args.script is None:
            raise InputError(f"no campaign folder at {str(directory)!r}; give a SCRIPT to start one")
        if directory.exists() and not directory.is_dir():
            raise InputError(f"{str(directory)!r} is a file, not a campaign folder")
        new = _new_campaign(args.script, args)   # checked before anything is created
        directory.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        if args.wait:
            from .lock import describe_holder, read_holder

            if read_holder(directory) is not None:
                _echo(args, f"Waiting for the writer of {directory} ({describe_holder(directory)}).")
        stack.enter_context(writer_lock(directory, wait=args.wait))  # held for the whole run
        if (directory / "setup.toml").is_file():   # (another run may have started it meanwhile)
            med = _resume(directory, args)
            _echo(args, f"Resuming the campaign in {directory} ({med.n_evaluated} results, "
                        f"{len(med.queue)} queued).")
        else:
            med = new
            med.save(directory)
            _echo(args, f"New campaign in {directory}: script {med.script.path}, "
                        f"{len(med.parameters)} parameters, {med.scheduler!r}, seed {med.seed}.")
        settings = _run_settings(med, directory, args)
        try:
            result = _explore(med, settings, args)
        finally:
            _close_scheduler(med.scheduler)
            for close in getattr(args, "cleanup", []):
                close()
    print(result)
    return EXIT_OK


def _resume(directory: Path, args):
    med = _load(directory, args.verbose, trust_settings=args.trust_settings)
    if args.script is not None:
        given = Path(args.script).expanduser().resolve()
        if med.script is not None and med.script.path != given:
            raise UsageError(
                f"{directory} holds the campaign of {med.script.path}, not {given}; choose "
                "another --dir to start a new campaign, or omit SCRIPT to resume")
    if med.script is None:
        raise InputError(f"the campaign in {directory} has no simulation script to run "
                         "(missing or never set); restore it, or explore it from Python")
    if args.seed is not None or args.sampler is not None:
        raise UsageError("--seed and --sampler apply to a new campaign, not when resuming")
    units = _response_units(args.response_units)
    if units is not None:
        med.set_response_units(units)
    if args.scheduler or args.workers or args.timeout or args.sbatch or args.dask_address:
        current = _KINDS.get(type(med.scheduler).__name__, "local")
        med.scheduler = _scheduler(args, args.scheduler or current)
    return med


def _run_settings(med, directory: Path, args) -> dict:
    """Exploration settings: the options given, else the previous run's, else defaults."""
    from .exploration import load_exploration

    try:
        previous = load_exploration(directory).get("settings", {})
    except ValueError as err:
        raise InputError(str(err)) from err
    given = {"budget": args.budget, "batch": args.batch,
             "target_uncertainty": args.target_uncertainty, "time_limit": args.time_limit,
             "discover": args.discover, "mode": args.mode,
             "cancel_on_stop": args.cancel_on_stop or None}
    settings = {key: value if value is not None else previous.get(key) for key, value in given.items()}
    stops = ("budget", "target_uncertainty", "time_limit")
    if all(settings[key] is None for key in stops):
        settings["budget"] = DEFAULT_BUDGET_PER_PARAMETER * len(med.parameters)
    options = dict(previous.get("discover_options", {}))
    options.update(_discovery_options(args, "discover_budget"))
    settings["discover_options"] = options
    settings["discover"] = bool(settings["discover"])
    settings["mode"] = settings["mode"] or "auto"
    settings["cancel_on_stop"] = bool(settings["cancel_on_stop"])
    return settings


def _discovery_options(args, budget_attribute: str) -> dict:
    options = {}
    if args.binary_operators:
        options["binary_operators"] = _split_operators(args.binary_operators)
    if args.unary_operators:
        options["unary_operators"] = _split_operators(args.unary_operators)
    if getattr(args, budget_attribute, None) is not None:
        options["timeout_in_seconds"] = getattr(args, budget_attribute)
    if getattr(args, "maxsize", None) is not None:
        options["maxsize"] = args.maxsize
    return options


def _split_operators(values: list[str]) -> list[str]:
    """Accept ``+ - '*'`` as well as ``+,-,*``."""
    return [op.strip() for value in values for op in value.split(",") if op.strip()]


def _explore(med, settings: dict, args):
    from .exploration import explore

    return explore(med, verbose=args.verbose, directory=med.paths.directory, **settings)


def _close_scheduler(scheduler) -> None:
    close = getattr(scheduler, "close", None)
    if callable(close):
        close()


def cmd_show(args) -> int:
    """``medeq show``: set-up, progress, results table and best equations."""
    import pandas as pd

    from .exploration import domain_uncertainty, load_exploration

    med = _load(args.dir, verbose=0)
    try:
        record = load_exploration(args.dir)
    except ValueError as err:
        raise InputError(str(err)) from err
    print(f"Campaign {Path(args.dir).resolve()}")
    print(f"  seed: {med.seed}    sampler: {med.sampler!r}")
    if med.script is not None:
        print(f"  script: {med.script.path}")
    if med.scheduler is not None:
        print(f"  scheduler: {med.scheduler!r}")
    print(f"\nParameters:\n{med.parameters.to_string()}")
    if med.response_units:
        print("Response units: " + ", ".join(f"{k} [{v}]" for k, v in med.response_units.items()))

    print("\nProgress:")
    print(f"  results: {med.n_evaluated} in {len(med.epochs)} epoch(s); queued: {len(med.queue)}")
    status = record.get("status")
    if status:
        print(f"  exploration: {status.get('state')} - {status.get('reason')} "
              f"(updated {status.get('updated')})")
        if status.get("state") == "exploring" and "in_flight" in status:
            from .progress import format_activity

            print(f"  jobs: {format_activity(status)}")
    settings = record.get("settings", {})
    if settings:
        print("  settings: " + ", ".join(f"{k}={v}" for k, v in settings.items() if k != "discover_options"))
    if med.gp is not None:
        print(f"  surrogate uncertainty (95% of the space, relative): {domain_uncertainty(med):.3g}")

    print("\nResults:")
    if med.n_evaluated:
        with pd.option_context("display.max_rows", args.rows, "display.min_rows", args.rows,
                               "display.width", 120):
            print(med.results)
    else:
        print("  (none yet)")

    print("\nEquations:")
    if not med.sr:
        print(f"  (none yet; run: medeq discover {args.dir})")
    from .discovery.campaign import campaign_analyses  # sympy: only when shown

    analyses = campaign_analyses(med)  # groups of each response with complete units
    for name, hall_of_fame in med.sr.items():
        print(f"  {name}: best {hall_of_fame.best}" if len(hall_of_fame) else f"  {name}: (empty)")
        if name in analyses:
            print(_indent(analyses[name].describe(name)))
        print(_indent(hall_of_fame.frame.to_string(index=False)))
    return EXIT_OK


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def cmd_discover(args) -> int:
    """``medeq discover``: symbolic regression on a campaign's results, saved in it."""
    if not Path(args.dir).is_dir():
        _load(args.dir)  # the usual error for a missing folder
    with writer_lock(args.dir):
        return _discover_locked(args)


def _discover_locked(args) -> int:
    med = _load(args.dir, args.verbose)
    if med.n_evaluated < 2:
        raise InputError(f"the campaign in {args.dir} has {med.n_evaluated} result(s); "
                         "discovery needs at least 2 - run it first")
    if args.response is not None and args.response not in med.names:
        raise UsageError(f"unknown --response {args.response!r}; the responses are {med.names}")
    if args.response is None and len(med.names) > 1:
        raise UsageError(f"the campaign has responses {med.names}; choose one with --response")
    options = _discovery_options(args, "budget")
    options["dimensional_analysis"] = {"auto": "auto", "on": True, "off": False}[args.dimensional_analysis]
    hall_of_fame = med.discover(args.response, equation_file=None, **options)
    name = args.response or med.names[0]
    if args.verbose == 0:
        print(hall_of_fame)
    print(f"best equation for {name}: {hall_of_fame.best}" if len(hall_of_fame)
          else f"no equation found for {name}")
    return EXIT_OK


def cmd_report(args) -> int:
    """``medeq report``: the campaign's HTML report."""
    med = _load(args.dir, args.verbose)
    output = Path(args.output) if args.output else Path(args.dir) / "report.html"
    try:
        path = med.report(output)
    except ModuleNotFoundError as err:
        if not (err.name or "").startswith("medeq"):
            raise
        raise RuntimeError(f"the HTML report is not available in this medeq installation "
                           f"({err.name} is missing)") from err
    print(f"report written to {path}")
    return EXIT_OK


def cmd_export(args) -> int:
    """``medeq export``: results as CSV, or everything as JSON."""
    med = _load(args.dir, verbose=0)
    if args.format == "csv":
        text = med.results.to_csv(index=False, lineterminator="\n")
    else:
        text = json.dumps(_as_json(med), indent=2, allow_nan=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _as_json(med) -> dict:
    import pandas as pd

    def records(frame: pd.DataFrame) -> list[dict]:
        return [{k: _json_value(v) for k, v in row.items()} for row in frame.to_dict("records")]

    parameters = med.parameters.reset_index(names="name")
    return {
        "seed": med.seed,
        "parameters": records(parameters),
        "response_names": med.names,
        "response_units": dict(med.response_units or {}),
        "epochs": [{"start": a, "end": b, "origin": o}
                   for (a, b), o in zip(med.epochs, med.epoch_origins)],
        "results": records(med.results),
        "queue": records(pd.DataFrame(med.queue, columns=med.parameter_names)),
        "equations": {name: records(hof.frame) for name, hof in med.sr.items()},
    }


def _json_value(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def cmd_demo(args) -> int:
    """``medeq demo``: explore the shipped Stokes-drag simulation and rediscover its law."""
    from .examples import MATCH_TOLERANCE, dimensional_groups, law_difference, run_demo

    directory = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="medeq-demo-"))
    if (directory / "setup.toml").exists():
        raise UsageError(f"{directory} already holds a campaign; choose a new --dir for the demo")
    args.campaign_dir = directory
    med, result = run_demo(directory, budget=args.budget, workers=args.workers,
                           discover_seconds=args.discover_budget, seed=args.seed,
                           verbose=args.verbose)
    print(result)
    error = law_difference(med)
    print("\ndimensional analysis (mu [Pa s], R [mm], v [mm/s] -> F [uN]):")
    print(_indent(dimensional_groups(med), "  "))
    print("\nsimulated law: F = 6*pi*mu*R*v (Stokes' law, F in micronewtons)")
    print(f"discovered law: F = {med.sr[med.names[0]].best.sympy}")
    verdict = "matches" if error < MATCH_TOLERANCE else "differs from"
    print(f"the discovered law {verdict} Stokes' law (largest relative difference {error:.1e})")
    return EXIT_OK if error < MATCH_TOLERANCE else EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
