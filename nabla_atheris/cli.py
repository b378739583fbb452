"""The `nabla-atheris` command: doctor, fuzz, report, merge, coverage, check, repro, minimize, seed, catalog, summary.

Every error of the user's (an argument, a malformed or oversized case, a corrupted file) is one line
on stderr and exit code 2; the exit codes are listed in `exitcodes`. `run` is the process' entry
point: it runs the commands that call a library in a supervised child process (`supervision`), so
that a native crash is reported; `main` runs a command in this process.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from nabla_atheris import environments, exitcodes, scenario_sets
from nabla_atheris.case import BadReference, Case, CaseFormatError
from nabla_atheris.libraries import LIBRARIES, record
from nabla_atheris.shellsafe import shell_safe
from nabla_atheris.supervision import SUPERVISED, SUPERVISED_COMMANDS, supervise, tracked
from nabla_atheris.verdict import Verdict

EXIT_AGREE, EXIT_FINDING, EXIT_BAD_INPUT = exitcodes.AGREE, exitcodes.FINDING, exitcodes.BAD_INPUT
EXIT_NO_RESULT = exitcodes.NO_RESULT
EXIT_HARNESS_ERROR = exitcodes.HARNESS_ERROR
EXIT_INTERRUPTED = exitcodes.INTERRUPTED
SCENARIOS_HELP = (
    "scenario sets, comma-separated: core, compiled, aot, inductor, batched, custom; NAME/N runs one on one case in N; "
    "default (the library's defaults), all (default: NABLA_SCENARIOS, else default)"
)
TRACEBACK = "NABLA_TRACEBACK"  # set to 1: an unexpected error shows its traceback
ROOT = Path(__file__).resolve().parents[1]


class BadInput(Exception):
    """A user error: printed as one line, exit code 2."""


def cmd_doctor(args: argparse.Namespace) -> int:
    """Per library: does it import, and which version."""
    report: dict[str, Any] = {"python": sys.version.split()[0]}
    for library in LIBRARIES:
        try:
            module = importlib.import_module(record(library).import_name)
            report[library] = {"ok": True, "version": getattr(module, "__version__", "?")}
        except Exception as exc:  # any import failure is what doctor reports
            report[library] = {"ok": False, "error": f"{type(exc).__name__}: {exc}".splitlines()[0][:200]}
    for tool in ("atheris", "msgpack", "numpy"):
        try:
            module = importlib.import_module(tool)
            report[tool] = {"ok": True, "version": getattr(module, "__version__", "?")}
        except ImportError as exc:
            report[tool] = {"ok": False, "error": str(exc)}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"python {report['python']}")
        for name, entry in report.items():
            if name != "python":
                print(f"{name:10} {'ok  ' + entry['version'] if entry['ok'] else 'MISSING  ' + entry['error']}")
    return 0


def print_verdict(verdict: Verdict) -> None:
    case = verdict.case
    tensors = ", ".join(f"{t.dtype}{list(t.shape)}{'*' if t.differentiable else ''}" for t in case.tensors())
    print(f"{case.library} {' -> '.join(case.apis())} ({tensors})")
    for line in verdict.lines:
        print(f"  {line.check:26} {line.status:9} {line.detail}")
    for error in verdict.harness_errors:
        print(f"HARNESS ERROR (nabla-atheris' own, not the library's): {error}")
    for f in verdict.findings:
        print(f"{'recorded' if f.recorded_only else 'FINDING'} {f.kind}: {f.message}")
    if not verdict.findings and verdict.filters:
        print(f"filtered: {', '.join(dict.fromkeys(verdict.filters))}")
    elif not verdict.findings and not verdict.harness_errors:
        print("agree: all scenarios agree")


def exit_code(verdict: Verdict) -> int:
    """check's and repro's exit code for a verdict (see the module's docstring)."""
    if verdict.harness_errors:
        return EXIT_HARNESS_ERROR
    return EXIT_FINDING if any(not f.recorded_only for f in verdict.findings) else EXIT_AGREE


def scenario_selection(library: str, spec: str | None, scenarios: Sequence[str] = ()) -> dict[str, int]:
    """The scenario sets `spec` names (else NABLA_SCENARIOS', else the library's defaults), with the
    sets of `scenarios` (a finding's) on every case; a bad name is bad input."""
    try:
        selection = scenario_sets.parse(library, spec) if spec else scenario_sets.from_environment(library)
    except (ValueError, KeyError) as exc:
        raise BadInput(f"--scenarios: {exc.args[0]}") from None
    selection.update({name: 1 for name in scenario_sets.sets_of_scenarios(library, scenarios)})
    return selection


def check_and_store(
    case: Case, findings_dir: Path | None, data: bytes | None = None, spec: str | None = None, scenarios: Sequence[str] = ()
) -> int:
    """Run the oracle on one case (the scenario sets of `spec` and those of `scenarios`), print the
    verdict, store findings when a findings folder is given; the exit code."""
    from nabla_atheris.backends import get_backend
    from nabla_atheris.oracle import check_case
    from nabla_atheris.session import store_findings

    try:
        backend = tracked(get_backend(case.library))
    except KeyError as exc:
        raise BadInput(str(exc.args[0])) from None
    if case.then:
        check_outputs_referenced(case, backend)
    verdict = check_case(case, backend, scenario_selection(case.library, spec, scenarios))
    if verdict.lines and verdict.lines[0].check == "bind":
        raise BadInput(f"cannot call {case.api}: {verdict.lines[0].detail}")
    print_verdict(verdict)
    if findings_dir is None:
        if verdict.findings:
            print("not stored: --findings DIR keeps each finding with its case and reproducer")
    else:
        for stored in store_findings(verdict, backend, _store(findings_dir), data):
            print(f"{'new' if stored.new else 'known'} {stored.kind} finding: {stored.folder}")
    return exit_code(verdict)


def check_outputs_referenced(case: Case, backend: Any) -> None:
    """Run a program once to refuse, as bad input, a reference to an output its call does not have
    (which only running shows); any other error is left to the oracle."""
    try:
        backend.bind(case).direct()
    except BadReference as exc:
        raise BadInput(str(exc)) from None
    except Exception:  # the library's error (or one binding shows): the oracle judges the case
        pass


def _store(findings_dir: Path) -> Any:
    from nabla_atheris.findings import FindingsStore

    if findings_dir.exists() and not findings_dir.is_dir():
        raise BadInput(f"--findings {findings_dir} is a file, not a folder")
    return FindingsStore(findings_dir)


def cmd_check(args: argparse.Namespace) -> int:
    from nabla_atheris.handcase import load_case_file

    return check_and_store(load_case_file(args.case), args.findings, spec=args.scenarios)


def finding_meta(path: Path) -> dict[str, Any] | None:
    """A finding folder's metadata (finding.json), None for any other path; a corrupted one is bad input."""
    from nabla_atheris.findings import FindingFormatError, folder_meta

    try:
        return folder_meta(path)
    except FindingFormatError as exc:
        raise BadInput(f"corrupted finding: {exc}") from None


def load_repro_target(path: Path, library: str) -> tuple[Case, bytes | None]:
    """A case from a finding folder, a hand-written JSON case, a case.msgpack file or a raw fuzzer
    input (crash file); cases are held to the hand-written cases' limits."""
    from nabla_atheris import case as case_codec
    from nabla_atheris.catalog import load_catalog
    from nabla_atheris.decoder import decode_bytes
    from nabla_atheris.findings import CASE_FILE, INPUT_FILE, META_FILE
    from nabla_atheris.handcase import load_case_file, validate

    if path.is_dir():
        meta = finding_meta(path)
        if meta is None or not (path / CASE_FILE).is_file():
            raise BadInput(f"{path} is not a finding folder (no {CASE_FILE} and {META_FILE})")
        data = _read_input(path / INPUT_FILE) if meta.get("from_fuzzer") and (path / INPUT_FILE).is_file() else None
        case = case_codec.decode(_read_input(path / CASE_FILE))
        validate(case)
        return case, data
    if not path.is_file():
        raise BadInput(f"no such file or folder: {path}")
    if path.suffix == ".json":
        return load_case_file(path), None
    data = _read_input(path)
    if path.suffix == ".msgpack":
        case = case_codec.decode(data)
        validate(case)
        return case, None
    return decode_bytes(data, load_catalog(library)), data


def _read_input(path: Path) -> bytes:
    from nabla_atheris.handcase import LIMITS, over_limit

    if path.stat().st_size > LIMITS["file bytes"]:
        raise over_limit("file bytes", path.stat().st_size)
    return path.read_bytes()


def finding_scenarios(target: Path) -> list[str]:
    """The scenarios of a finding folder (a re-check runs their scenario sets), else none."""
    return (finding_meta(target) or {}).get("scenarios", [])


def cmd_repro(args: argparse.Namespace) -> int:
    case, data = load_repro_target(args.target, args.lib)
    return check_and_store(case, args.findings, data, args.scenarios, finding_scenarios(args.target))


def cmd_minimize(args: argparse.Namespace) -> int:
    """Shrink a finding's case while its signature stays; write the result next to the original."""
    if args.max_checks < 1 or args.time < 1:
        raise BadInput("--max-checks and --time must be at least 1")
    if args.native or native_finding_folder(args.target):
        return minimize_native_crash(args)
    from nabla_atheris.backends import get_backend
    from nabla_atheris.minimize import case_size, minimize_case, signature_on, write_minimized
    from nabla_atheris.oracle import check_case
    from nabla_atheris.reproducer import render_reproducer

    case, _ = load_repro_target(args.target, args.lib)
    backend = tracked(get_backend(case.library))
    selection = scenario_selection(case.library, args.scenarios, finding_scenarios(args.target))
    verdict = check_case(case, backend, selection)
    wanted = (finding_meta(args.target) or {}).get("signature")
    signatures = [f.signature() for f in verdict.findings]
    if not signatures or (wanted is not None and wanted not in signatures):
        print(f"nabla-atheris: {args.target} does not reproduce {wanted or 'a finding'}: nothing to minimize", file=sys.stderr)
        return EXIT_NO_RESULT
    signature = wanted or signatures[0]
    print(f"minimizing {signature}, size {case_size(case)} (calls, elements, arguments, unusual dtypes, value complexity)")

    matching = {case: next(f for f in verdict.findings if f.signature() == signature)}
    original = matching[case]

    def reproduces(candidate: Case) -> bool:
        wanted_here = signature_on(original, candidate)
        found = [f for f in check_case(candidate, backend, selection).findings if f.signature() == wanted_here]
        if found:
            matching[candidate] = found[0]
        return bool(found)

    smallest = minimize_case(case, reproduces, args.max_checks, progress=print)
    final = matching[smallest]
    prefix = args.target / "minimized" if args.target.is_dir() else args.target.with_name(args.target.name + ".minimized")
    outputs = write_minimized(prefix, smallest, render_reproducer(smallest, final))
    renamed = f" as {final.signature()}" if final.signature() != signature else ""  # calls were dropped
    print(f"minimized to size {case_size(smallest)}{renamed}: {', '.join(str(p) for p in outputs)}")
    return EXIT_FINDING


def native_finding_folder(target: Path) -> bool:
    """Whether `target` is a finding folder of a native crash, timeout or OOM (found by libFuzzer)."""
    from nabla_atheris.findings import FindingFormatError, folder_meta, is_native

    try:
        meta = folder_meta(target)
    except FindingFormatError:
        return False
    return meta is not None and is_native(meta)


def minimize_native_crash(args: argparse.Namespace) -> int:
    """`minimize` of a native crash: a finding folder or a raw artifact (`artifacts.minimize_native_crash`)."""
    from nabla_atheris.artifacts import minimize_native_crash as minimize
    from nabla_atheris.findings import INPUT_FILE

    if args.target.is_dir():
        source, library = args.target / INPUT_FILE, (finding_meta(args.target) or {}).get("library")
        prefix = args.target / "minimized"
        if not source.is_file() or library not in LIBRARIES:
            raise BadInput(f"{args.target} is not a finding folder of a native crash (no {INPUT_FILE} of a known library)")
    elif args.target.is_file():
        source, library, prefix = args.target, args.lib, args.target.with_name(args.target.name + ".minimized")
    else:
        raise BadInput(f"no such file or folder: {args.target}")
    _read_input(source)  # held to the size limit of inputs
    return minimize(source, library, prefix, args.time)


def cmd_seed(args: argparse.Namespace) -> int:
    from nabla_atheris.seeds import write_seeds

    out = args.out or ROOT / "corpus" / args.lib
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out} is a file, not a folder")
    foreign = [p.name for p in out.iterdir() if p.is_file() and not p.name.startswith(f"{args.lib}.")] if out.is_dir() else []
    if foreign:  # seed replaces the folder's files: never a folder of other files
        raise BadInput(f"{out} holds files that are not {args.lib} seeds (such as {foreign[0]}): choose an empty folder")
    count = write_seeds(args.lib, out)
    print(f"wrote {count} seeds to {out}")
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    from nabla_atheris.catalog import catalog_stats

    stats = catalog_stats(args.lib)
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    totals = f"{stats['apis_validated']} APIs validated, {stats['templates']} templates, registry {stats['registry_size']}"
    print(f"{args.lib}: {totals}")
    for title, key in (("by namespace", "by_namespace"), ("by source (first template)", "by_source")):
        print(f"{title}:")
        for name, count in stats[key].items():
            print(f"  {name:32} {count}")
    if args.stats:
        print(f"failed validation: {len(stats['failed'])}")
        for name, reason in stats["failed"].items():
            print(f"  {name:40} {reason}")
    return 0


def campaign_folder(path: Path) -> Path:
    """A campaign's workdir given on the command line (anything else is bad input)."""
    from nabla_atheris.campaign import Workdir

    place = Workdir(path)
    if not path.is_dir():
        raise BadInput(f"no such campaign folder: {path}")
    if not place.stats.is_dir() and not place.records.is_file():
        parent = " (it looks like a campaign's findings folder: give the campaign's folder)" if path.name == "findings" else ""
        raise BadInput(f"not a campaign folder (no stats/ or stats.jsonl): {path}{parent}")
    return path


def skipped_files(problems: list[str]) -> int:
    """Name the files a summary or report skipped, in one line; the exit code."""
    if not problems:
        return EXIT_AGREE
    more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
    print(f"nabla-atheris: error: skipped malformed file(s): {problems[0]}{more}", file=sys.stderr)
    return EXIT_BAD_INPUT


def cmd_summary(args: argparse.Namespace) -> int:
    from nabla_atheris.report import read_campaign, render_summary

    campaign = read_campaign(campaign_folder(args.workdir))
    print(render_summary(campaign))
    return skipped_files(campaign.problems)


def cmd_report(args: argparse.Namespace) -> int:
    """The campaign's HTML report and Markdown summary."""
    from nabla_atheris.report import read_campaign, write_campaign_report

    campaign = read_campaign(campaign_folder(args.workdir))
    out = args.out or args.workdir / "report"
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out} is a file, not a folder")
    page, markdown = write_campaign_report(campaign, out)
    print(f"report: {page}\nsummary: {markdown}")
    return skipped_files(campaign.problems)


def cmd_fuzz(args: argparse.Namespace) -> int:
    """A campaign: N long-lived workers of the library's harness over the workdir's corpus and the
    seeds. Findings are stored (input, case, reproducer) without crashing the worker, unless
    --crash-on-findings (OSS-Fuzz's way); a worker that ends early is replaced; libFuzzer's crash,
    timeout and OOM artifacts are re-run and recorded as findings while the campaign runs. Stop with
    Ctrl-C or SIGTERM; the same command on the same workdir resumes."""
    from nabla_atheris.campaign import CampaignBusy, Display, Workdir, harness_env, harness_path
    from nabla_atheris.supervisor import CampaignFailed, Plan, run_campaign

    harness = harness_path(args.lib)
    seeds = args.seeds or ROOT / "corpus" / args.lib
    if not seeds.is_dir() or not corpus_files(seeds):
        raise BadInput(f"no seed corpus in {seeds} (run `nabla-atheris seed {args.lib}`)")
    if args.jobs < 1 or args.time < 0:
        raise BadInput("--jobs must be at least 1 and --time at least 0 (0: until interrupted)")
    workdir = Workdir(args.workdir or Path("work") / args.lib)
    if workdir.root.exists() and not workdir.root.is_dir():
        raise BadInput(f"--workdir {workdir.root} is a file, not a folder")
    workdir.create()
    limits = record(args.lib).limits
    raising = {} if args.crash_on_findings else {"NABLA_RAISE": "0"}  # findings are stored either way
    scenarios = {"NABLA_SCENARIOS": args.scenarios} if args.scenarios else {}
    chosen = scenario_selection(args.lib, args.scenarios)  # a bad name is an error now, not in every worker
    budget = os.environ.get("NABLA_MAX_RSS_MB", str(limits.worker_budget_mb))
    env = harness_env(findings=workdir.findings, NABLA_STATS=str(workdir.stats), NABLA_MAX_RSS_MB=budget, **raising, **scenarios)
    plan = Plan(args.lib, harness, seeds, args.jobs, args.time, limits, args.libfuzzer, env)
    display = Display(sys.stdout)
    try:
        with workdir.lock(say=display.message):
            display.message(f"scenario sets: {scenario_sets.describe(chosen)}")
            interrupted, left = run_campaign(plan, workdir, display)
    except CampaignBusy as exc:
        raise BadInput(str(exc)) from None
    except CampaignFailed as exc:
        return error_line(f"{exc}\n(the workers' output: {workdir.log})", EXIT_HARNESS_ERROR)
    if left:
        print(f"{left} artifact(s) in {workdir.artifacts} are triaged at the next run", flush=True)
    from nabla_atheris.report import summarize

    print(summarize(workdir.root))
    return EXIT_INTERRUPTED if interrupted else EXIT_AGREE


def corpus_files(folder: Path) -> list[Path]:
    """The inputs of a corpus folder (a missing or non-folder path is bad input)."""
    if not folder.is_dir():
        raise BadInput(f"not a corpus folder: {folder}")
    return [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]


MERGE_SUMMARY = re.compile(r"MERGE-OUTER: (\d+) new files with (\d+) new features added; (\d+) new coverage edges")


def cmd_merge(args: argparse.Namespace) -> int:
    """libFuzzer's corpus merge (-merge=1, or -set_cover_merge=1) through the library's harness; the
    findings met while merging are kept only with --findings."""
    from nabla_atheris.campaign import harness_env, harness_path, run_logged
    from nabla_atheris.findings import FindingsStore
    from nabla_atheris.lifetime import PARENT_ENV

    harness = harness_path(args.lib)
    inputs = sum((corpus_files(folder) for folder in args.corpora), [])
    if not inputs:
        raise BadInput(f"nothing to merge: {', '.join(map(str, args.corpora))} hold no inputs")
    if args.out.exists() and not args.out.is_dir():
        raise BadInput(f"OUT {args.out} is a file, not a corpus folder")
    if args.time < 1:
        raise BadInput("--time must be at least 1")
    args.out.mkdir(parents=True, exist_ok=True)
    before = len(corpus_files(args.out))
    flag = "-set_cover_merge=1" if args.set_cover else "-merge=1"
    log = args.out.parent / f"{args.out.name}.merge.log"
    log.unlink(missing_ok=True)
    print(f"merging {len(inputs)} inputs of {len(args.corpora)} folder(s) into {args.out} ({flag}; log: {log})", flush=True)
    if args.findings is not None and args.findings.exists() and not args.findings.is_dir():
        raise BadInput(f"--findings {args.findings} is a file, not a folder")
    with tempfile.TemporaryDirectory(prefix="nabla-merge-findings-") as scratch:  # findings are kept only with --findings
        findings = args.findings or Path(scratch)
        # a finding met while merging is stored, not a crash; libFuzzer's merge process dies with this one
        env = harness_env(findings=findings, NABLA_RAISE="0", **{PARENT_ENV: str(os.getpid())})
        with shell_safe([harness, args.out, *args.corpora]) as (safe_harness, safe_out, *safe_corpora):  # libFuzzer's shell
            flags = [*record(args.lib).limits.flags(), *args.libfuzzer]
            argv = [str(safe_harness), flag, str(safe_out), *map(str, safe_corpora), *flags]
            code, _ = run_logged(argv, env, log, lambda line: line.startswith("MERGE-OUTER"), deadline=args.time)
        met = len(FindingsStore(findings).metas()) if args.findings is None else 0
    if met:
        print(f"findings met while merging: {met} (not kept; --findings DIR keeps them)")
    after = len(corpus_files(args.out))
    summaries = MERGE_SUMMARY.findall(log.read_text(errors="replace")) if log.is_file() else []
    if code != 0 or not summaries or after == 0:
        print(
            f"nabla-atheris: error: the merge produced nothing from {len(inputs)} inputs (exit code {code}); see {log}",
            file=sys.stderr,
        )
        return EXIT_NO_RESULT
    _, features, edges = summaries[-1]
    kept = f"{features} features, {edges} coverage edges kept"
    print(f"{len(inputs)} inputs -> {after} files in {args.out} ({after - before} new); {kept}")
    return EXIT_AGREE


def cmd_coverage(args: argparse.Namespace) -> int:
    """Replay a corpus once under coverage.py: line coverage of the library's AD modules and of nabla_atheris."""
    from nabla_atheris.corpus_coverage import corpus_coverage, render

    inputs = sorted(corpus_files(args.corpus))
    if not inputs:
        raise BadInput(f"empty corpus: {args.corpus}")
    if args.out and args.out.exists() and not args.out.is_dir():
        raise BadInput(f"--out {args.out} is a file, not a folder")
    html = args.out / "html" if args.out else None
    totals = corpus_coverage(args.lib, inputs, html, progress=lambda line: print(line, file=sys.stderr, flush=True))
    text = render(totals)
    print(text)
    if args.out:
        (args.out / "coverage.txt").write_text(text + "\n")
        print(f"HTML report: {html / 'index.html'}")
    return EXIT_AGREE


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (and exit code 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        print(f"nabla-atheris: error: {self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    epilog = f"exit codes:\n{exitcodes.describe()}"
    parser = Parser(
        prog="nabla-atheris",
        description=__doc__.splitlines()[0],
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("doctor", help="which libraries import, and their versions")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_doctor)
    p = sub.add_parser("fuzz", help="run a fuzzing campaign")
    p.add_argument("lib", choices=LIBRARIES)
    p.add_argument("--time", type=int, default=60, help="seconds (default 60; 0: until interrupted)")
    p.add_argument("--jobs", type=int, default=1, help="parallel long-lived libFuzzer workers (default 1)")
    p.add_argument("--workdir", type=Path, help="campaign folder (default work/LIB); the same workdir resumes")
    p.add_argument("--seeds", type=Path, help="seed corpus folder (default corpus/LIB)")
    p.add_argument(
        "--crash-on-findings", action="store_true", help="a new finding crashes its worker (libFuzzer keeps a crash artifact)"
    )
    p.add_argument("--scenarios", help=SCENARIOS_HELP)
    p.add_argument("libfuzzer", nargs="*", help="libFuzzer flags, after --")
    p.set_defaults(func=cmd_fuzz)
    p = sub.add_parser("merge", help="merge corpora with libFuzzer (-merge=1 or -set_cover_merge=1)")
    p.add_argument("lib", choices=LIBRARIES)
    p.add_argument("out", type=Path, help="output corpus folder (inputs already there are kept)")
    p.add_argument("corpora", type=Path, nargs="+", help="input corpus folders")
    p.add_argument("--set-cover", action="store_true", help="a smallest set of inputs with the same coverage")
    p.add_argument("--time", type=int, default=24 * 3600, help="stop after this many seconds")
    p.add_argument("--findings", type=Path, help="keep the findings met while merging in this folder (default: not kept)")
    p.add_argument("libfuzzer", nargs="*", help="libFuzzer flags, after --")
    p.set_defaults(func=cmd_merge)
    p = sub.add_parser("coverage", help="line coverage of a corpus replayed once (text and HTML)")
    p.add_argument("lib", choices=LIBRARIES)
    p.add_argument("corpus", type=Path)
    p.add_argument("--out", type=Path, help="folder for coverage.txt and the HTML report")
    p.set_defaults(func=cmd_coverage)
    findings_help = "store findings (case, input, reproducer) in this folder (default: not stored)"
    p = sub.add_parser("check", help="check one hand-written JSON case")
    p.add_argument("case", type=Path)
    p.add_argument("--findings", type=Path, help=findings_help)
    p.add_argument("--scenarios", help=SCENARIOS_HELP)
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("repro", help="re-check a finding folder, a JSON case, a case.msgpack or a crash file")
    p.add_argument("target", type=Path)
    p.add_argument("--lib", choices=LIBRARIES, default="torch", help="library of a raw crash file")
    p.add_argument("--findings", type=Path, help=findings_help)
    p.add_argument("--scenarios", help=SCENARIOS_HELP + "; a finding's own sets always run")
    p.set_defaults(func=cmd_repro)
    p = sub.add_parser("minimize", help="shrink a finding's case, keeping its signature")
    p.add_argument("target", type=Path, help="a finding folder, a JSON case, a case.msgpack or a crash file")
    p.add_argument("--lib", choices=LIBRARIES, default="torch", help="library of a raw crash file")
    p.add_argument("--max-checks", type=int, default=300, help="oracle runs the shrinker may spend")
    p.add_argument(
        "--native", action="store_true", help="libFuzzer's -minimize_crash for a native crash (automatic for such findings)"
    )
    p.add_argument("--time", type=int, default=300, help="seconds for -minimize_crash (default 300)")
    p.add_argument("--scenarios", help=SCENARIOS_HELP + "; a finding's own sets always run")
    p.set_defaults(func=cmd_minimize)
    p = sub.add_parser("seed", help="write one seed input per catalog template")
    p.add_argument("lib", choices=LIBRARIES)
    p.add_argument("--out", type=Path)
    p.set_defaults(func=cmd_seed)
    p = sub.add_parser("catalog", help="catalog statistics")
    p.add_argument("lib", choices=LIBRARIES)
    p.add_argument("--stats", action="store_true", help="also list the APIs that failed validation, with the reason")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_catalog)
    p = sub.add_parser("report", help="a campaign's HTML report and Markdown summary, with plots")
    p.add_argument("workdir", type=Path)
    p.add_argument("--out", type=Path, help="output folder (default WORKDIR/report)")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("summary", help="summarize a campaign's workdir")
    p.add_argument("workdir", type=Path)
    p.set_defaults(func=cmd_summary)
    for command in sub.choices.values():  # every command's --help lists the exit codes too
        command.epilog, command.formatter_class = epilog, argparse.RawDescriptionHelpFormatter
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command in this process; its exit code (every error of the user's is one line and 2)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_request:  # --help, or an argument error already printed in one line
        return exit_request.code if isinstance(exit_request.code, int) else EXIT_BAD_INPUT
    delegated = environments.delegate(args, argv)  # OneFlow's commands run in its Python 3.10 environment
    if delegated is not None:
        return delegated
    try:
        return args.func(args)
    except (BadInput, CaseFormatError) as exc:
        return error_line(str(exc), EXIT_BAD_INPUT)
    except OSError as exc:  # a file or folder of the user's that cannot be read or written
        return error_line(f"{exc.strerror or type(exc).__name__}: {exc.filename or exc}", EXIT_BAD_INPUT)
    except MemoryError:
        return error_line(f"out of memory in {args.command}: the input needs more memory than this machine has", EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        return error_line("interrupted", EXIT_INTERRUPTED, prefix="")
    except Exception as exc:  # nabla-atheris' own error: one line, the traceback on request
        if os.environ.get(TRACEBACK) == "1":
            raise
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        what = f"{type(exc).__name__}: {str(exc).strip()[:200]} (at {Path(frame.filename).name}:{frame.lineno})"
        advice = f"please report it ({TRACEBACK}=1 shows the traceback)"
        return error_line(f"internal error of nabla-atheris: {' '.join(what.split())}; {advice}", EXIT_HARNESS_ERROR)


def error_line(message: str, code: int, prefix: str = "error: ") -> int:
    """Print one line on stderr; the exit code."""
    print(f"nabla-atheris: {prefix}{message}", file=sys.stderr)
    return code


def run(argv: Sequence[str] | None = None) -> int:
    """The process' entry point (`nabla-atheris`, `python -m nabla_atheris`): a command that runs a
    library runs in a supervised child process in the library's environment, so that a native crash
    is reported (exit code 5) instead of killing the command silently."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if os.environ.get(SUPERVISED):
        return main(argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_request:
        return exit_request.code if isinstance(exit_request.code, int) else EXIT_BAD_INPUT
    delegated = environments.delegate(args, argv, replace=True)
    if delegated is not None:
        return delegated
    return supervise(argv) if args.command in SUPERVISED_COMMANDS else main(argv)


if __name__ == "__main__":
    sys.exit(run())
