"""A campaign's report: a self-contained HTML page (plots embedded as PNG) and a Markdown summary
with its PNG files, and the plain-text summary of `summary` and `fuzz`, from the workdir's progress
records, findings store and artifact triage. Findings are grouped by root cause (`rootcause`): the
root causes first, their member findings below. Flaky native crashes (libFuzzer crashes a re-run did
not repeat) are listed apart and are not counted as findings. Malformed files are skipped and named
(`Campaign.problems`)."""

from __future__ import annotations

import base64
import html
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nabla_atheris.campaign import Workdir, read_records
from nabla_atheris.findings import REPRO_FILE, FindingsStore, meta_root
from nabla_atheris.stats import campaign_totals
from nabla_atheris.vocabulary import RECORDED_KINDS

PLOTS = (
    ("coverage", "cov", "coverage (libFuzzer features: cov)"),
    ("corpus", "corpus", "corpus size (inputs)"),
    ("findings", "unique_findings", "unique findings"),
)


def plot_png(records: list[dict[str, Any]], key: str, title: str) -> bytes:
    """One line plot of a record field over elapsed minutes, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    points = [(r["elapsed_s"] / 60, _value(r, key)) for r in records if _value(r, key) is not None]
    figure, axes = plt.subplots(figsize=(6, 2.6), dpi=100)
    if points:
        xs, ys = zip(*points)
        axes.plot(xs, ys, drawstyle="steps-post", color="#2a6fb0", marker=".", markersize=4)  # points: short runs too
    axes.set_title(title, fontsize=10)
    axes.set_xlabel("minutes")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def _value(record: dict[str, Any], key: str) -> float | None:
    """A record's figure: a number, or the sum of a mapping of numbers (None when missing or malformed)."""
    value = record.get(key)
    if isinstance(value, dict):
        value = sum(value.values()) if all(_is_number(v) for v in value.values()) else None
    return value if _is_number(value) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def usable_records(records: list[Any]) -> tuple[list[dict[str, Any]], int]:
    """The progress records with a numeric `elapsed_s` (what every figure is plotted against), and how
    many others there were."""
    usable = [r for r in records if isinstance(r, dict) and _is_number(r.get("elapsed_s"))]
    return usable, len(records) - len(usable)


def overview(totals: dict[str, Any], records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The campaign's headline figures as (name, value) pairs, from its totals and progress records."""
    last = records[-1] if records else {}
    elapsed = float(last.get("elapsed_s", 0.0))
    return [
        ("elapsed", f"{elapsed / 60:.1f} min in {_figure(last, 'run', 0)} run(s)"),
        ("cases checked", f"{totals['execs']} ({totals['execs'] / max(elapsed, 1e-9):.1f}/s)"),
        ("worker processes", str(totals["processes"])),
        ("valid-call rate", f"{totals['valid_rate']:.1%}"),
        ("APIs exercised", str(totals["apis_exercised"])),
        ("coverage (cov / ft)", f"{_figure(last, 'cov')} / {_figure(last, 'ft')}"),
        ("corpus size", str(_figure(last, "corpus"))),
        *[("worker time", line.split(": ", 1)[1]) for line in time_lines(last)],
    ]


def _figure(record: dict[str, Any], key: str, missing: Any = "-") -> Any:
    value = _value(record, key)
    return missing if value is None else value


def finding_row(folder: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """A stored finding as a row of the summary and the report."""
    max_error = meta.get("max_error")
    return {
        "root": meta_root(meta),
        "api": meta["api"],
        "kind": meta["kind"],
        "scenarios": " vs ".join(meta["scenarios"]),
        "max_error": f"{max_error:.3g}" if _is_number(max_error) else "-",
        "first_seen": meta["first_seen"],
        "hits": meta["hits"],
        "folder": folder,
        "message": meta["message"],
        "recorded": meta["kind"] in RECORDED_KINDS,
        "flaky": bool(meta.get("details", {}).get("flaky")),
    }


def group_by_root(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows grouped by root cause (most hits first), each marked whether it leads its group."""
    hits_of_root: dict[str, int] = {}
    for r in rows:
        hits_of_root[r["root"]] = hits_of_root.get(r["root"], 0) + r["hits"]
    rows = sorted(rows, key=lambda r: (-hits_of_root[r["root"]], r["root"], -r["hits"], r["kind"], r["api"]))
    for i, r in enumerate(rows):
        r["leads"] = i == 0 or rows[i - 1]["root"] != r["root"]
    return rows


def root_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Unique root causes of the findings, of which raised (not only recorded kinds), and findings."""
    roots = {r["root"] for r in rows}
    raised = {r["root"] for r in rows if not r["recorded"]}
    return {"root_causes": len(roots), "raised_root_causes": len(raised), "findings": len(rows)}


@dataclass
class Campaign:
    """What the summary and the report read from a workdir: statistics totals, progress records, the
    findings grouped by root cause, the flaky native crashes apart, and the files that were skipped."""

    root: Path
    totals: dict[str, Any]
    records: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    flaky: list[dict[str, Any]]
    problems: list[str]


def read_campaign(workdir_path: Path) -> Campaign:
    """Read a campaign's workdir once (a malformed file is skipped and named in `problems`)."""
    place = Workdir(workdir_path)
    totals = campaign_totals(place.stats)
    records, malformed = usable_records(read_records(place.records))
    problems = list(totals["unreadable"])
    if malformed:
        problems.append(f"{place.records}: {malformed} malformed record(s)")
    entries, unreadable = FindingsStore(place.findings).scan() if place.findings.is_dir() else ([], [])
    problems += unreadable
    rows = [finding_row(folder, meta) for folder, meta in entries]
    findings = group_by_root([r for r in rows if not r["flaky"]])
    flaky = sorted((r for r in rows if r["flaky"]), key=lambda r: (r["api"], r["kind"]))
    return Campaign(place.root, totals, records, findings, flaky, problems)


def summarize(workdir_path: Path) -> str:
    """A campaign's plain-text summary (see `render_summary`)."""
    return render_summary(read_campaign(workdir_path))


def time_lines(record: dict[str, Any]) -> list[str]:
    """Where the last run's worker processes spent their time, from its last progress record (none
    for records without time accounting)."""
    figures = record.get("time_accounting")
    if not isinstance(figures, dict) or not _is_number(figures.get("checking_share")):
        return []
    line = (
        f"worker time (last run): start-up {figures.get('startup_s')} s, first pass over the corpus "
        f"{figures.get('first_pass_s')} s, later inputs {figures.get('later_s')} s; "
        f"checking inputs {figures['checking_share']:.0%}"
    )
    after = figures.get("checking_share_after_first_minute")
    if _is_number(after):
        line += f", {after:.0%} after each worker's first minute"
    processes = record.get("processes") if isinstance(record.get("processes"), list) else []
    peak = max((p["peak_rss_mb"] for p in processes if isinstance(p, dict) and _is_number(p.get("peak_rss_mb"))), default=0)
    if peak:
        line += f"; peak memory of a worker {peak} MB"
    return [line]


def render_summary(campaign: Campaign) -> str:
    """Statistics over all runs, then root causes with their findings, then flaky native crashes."""
    totals, records = campaign.totals, campaign.records
    lines = []
    if totals["processes"]:
        last = records[-1] if records else {}
        elapsed = float(last["elapsed_s"]) if records else totals["worker_s"]
        runs = f"{_figure(last, 'run', '?')} run(s), " if records else ""
        coverage = f", coverage {_figure(last, 'cov')}, corpus {_figure(last, 'corpus')}" if records else ""
        lines.append(
            f"{runs}{elapsed:.0f} s: checked {totals['execs']} cases ({totals['execs'] / max(elapsed, 1e-9):.1f}/s) in "
            f"{totals['processes']} worker process(es), valid-call rate {totals['valid_rate']:.1%}, "
            f"{totals['apis_exercised']} APIs exercised{coverage}"
        )
        lines += time_lines(last)
        lines.append("filtered: " + (", ".join(f"{k} {v}" for k, v in sorted(totals["filtered"].items())) or "none"))
        if totals.get("scenario_s"):
            spent = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in sorted(totals["scenario_s"].items()))
            lines.append(f"time per scenario set: {spent}")
        harness = totals.get("harness_errors", {})
        lines.append(f"harness errors (nabla-atheris' own): {sum(harness.values())}")
        lines += [f"  {count:6} {error}" for error, count in sorted(harness.items(), key=lambda kv: -kv[1])[:10]]
    counts = root_counts(campaign.findings)
    lines.append(
        f"root causes: {counts['root_causes']} ({counts['raised_root_causes']} raised, the others recorded only), "
        f"unique findings: {counts['findings']}"
    )
    for r in campaign.findings:
        if r["leads"]:
            lines.append(f"  {r['root']}")
        lines.append(f"    {r['kind']:22} {r['api']:40} {r['scenarios']:28} hits {r['hits']}  {r['message'][:80]}")
    if campaign.flaky:
        lines.append(f"flaky native crashes (a re-run did not repeat them; not findings): {len(campaign.flaky)}")
        lines += [f"    {r['kind']:22} {r['api']:40} hits {r['hits']}  {r['folder'].name}" for r in campaign.flaky]
    return "\n".join(lines)


COLUMNS = ("root", "api", "kind", "scenarios", "max_error", "first_seen", "hits")
FLAKY_COLUMNS = ("api", "kind", "first_seen", "hits")


def _reproducer(row: dict[str, Any], relative_to: Path) -> str:
    return os.path.relpath(row["folder"] / REPRO_FILE, relative_to)


def render_markdown(figures: list[tuple[str, str]], campaign: Campaign, plots: list[str], out: Path) -> str:
    rows, filtered = campaign.findings, campaign.totals["filtered"]
    lines = ["# nabla-atheris campaign report", "", "| figure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in figures]
    counts = root_counts(rows)
    title = f"## Root causes ({counts['root_causes']}, {counts['raised_root_causes']} raised) and their findings ({len(rows)})"
    lines += ["", title, "", "| " + " | ".join(COLUMNS) + " | reproducer |", "|---" * (len(COLUMNS) + 1) + "|"]
    lines += ["| " + " | ".join(_cell(r, c) for c in COLUMNS) + f" | [repro.py]({_reproducer(r, out)}) |" for r in rows]
    if campaign.flaky:
        lines += ["", f"## Flaky native crashes ({len(campaign.flaky)}: a re-run did not repeat them; not findings)", ""]
        lines += ["| " + " | ".join(FLAKY_COLUMNS) + " | reproducer |", "|---" * (len(FLAKY_COLUMNS) + 1) + "|"]
        lines += [
            "| " + " | ".join(_cell(r, c) for c in FLAKY_COLUMNS) + f" | [repro.py]({_reproducer(r, out)}) |"
            for r in campaign.flaky
        ]
    lines += ["", "## Filtered (not findings), by reason", "", "| reason | cases |", "|---|---|"]
    lines += [f"| {reason} | {count} |" for reason, count in sorted(filtered.items(), key=lambda kv: -kv[1])]
    lines += ["", "## Over time", ""] + [f"![{name}]({name}.png)" for name in plots] + [""]
    return "\n".join(lines)


def _cell(row: dict[str, Any], column: str) -> str:
    """A Markdown cell: the root only on its group's first row; names in code style."""
    if column == "root":
        return f"**`{row['root']}`**" if row["leads"] else ""
    return f"`{row[column]}`" if column == "api" else str(row[column])


STYLE = """body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}th{background:#eef}
code{font-size:12px}img{margin:4px;border:1px solid #ddd}"""


def render_html(figures: list[tuple[str, str]], campaign: Campaign, pngs: dict[str, bytes], out: Path) -> str:
    esc = html.escape
    rows, filtered = campaign.findings, campaign.totals["filtered"]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>nabla-atheris report</title><style>{STYLE}</style>"]
    parts.append("</head><body><h1>nabla-atheris campaign report</h1><table>")
    parts += [f"<tr><th>{esc(name)}</th><td>{esc(value)}</td></tr>" for name, value in figures]
    parts.append("</table><div>")
    for name, png in pngs.items():
        parts.append(f"<img alt='{esc(name)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>")
    counts = root_counts(rows)
    title = f"Root causes ({counts['root_causes']}, {counts['raised_root_causes']} raised) and their findings ({len(rows)})"
    parts.append(f"</div><h2>{esc(title)}</h2>")
    parts.append(_html_table(rows, COLUMNS, out))
    if campaign.flaky:
        parts.append(f"<h2>Flaky native crashes ({len(campaign.flaky)}: a re-run did not repeat them; not findings)</h2>")
        parts.append(_html_table(campaign.flaky, FLAKY_COLUMNS, out))
    parts.append("<h2>Filtered (not findings), by reason</h2><table><tr><th>reason</th><th>cases</th></tr>")
    parts += [f"<tr><td>{esc(k)}</td><td>{v}</td></tr>" for k, v in sorted(filtered.items(), key=lambda kv: -kv[1])]
    parts.append("</table></body></html>")
    return "".join(parts)


def _html_table(rows: list[dict[str, Any]], columns: tuple[str, ...], out: Path) -> str:
    esc = html.escape
    parts = ["<table><tr>"] + [f"<th>{esc(c)}</th>" for c in columns] + ["<th>reproducer</th></tr>"]
    for r in rows:
        cells = "".join(f"<td>{_html_cell(r, c)}</td>" for c in columns)
        link = esc(_reproducer(r, out))
        parts.append(f"<tr title='{esc(r['message'])}'>{cells}<td><a href='{link}'>repro.py</a></td></tr>")
    return "".join(parts) + "</table>"


def _html_cell(row: dict[str, Any], column: str) -> str:
    if column == "root":
        return f"<b><code>{html.escape(row['root'])}</code></b>" if row["leads"] else ""
    value = html.escape(str(row[column]))
    return f"<code>{value}</code>" if column == "api" else value


def write_campaign_report(campaign: Campaign, out: Path) -> tuple[Path, Path]:
    """Write report.html (self-contained) and report.md with its PNG plots into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    figures = overview(campaign.totals, campaign.records)
    pngs = {name: plot_png(campaign.records, key, title) for name, key, title in PLOTS}
    for name, png in pngs.items():
        (out / f"{name}.png").write_bytes(png)
    markdown, page = out / "report.md", out / "report.html"
    markdown.write_text(render_markdown(figures, campaign, list(pngs), out), encoding="utf-8")
    page.write_text(render_html(figures, campaign, pngs, out), encoding="utf-8")
    return page, markdown
