"""A campaign's report: a self-contained HTML page (plots embedded as PNG) and a Markdown summary
with its PNG files, and the plain-text summary of `summary` and `fuzz`, from the workdir's progress
records, findings store and artifact triage. Findings are grouped by root cause (`rootcause`): the
root causes first, their member findings below."""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path
from typing import Any

from nabla_atheris.campaign import Workdir, read_records
from nabla_atheris.findings import REPRO_FILE, FindingsStore
from nabla_atheris.rootcause import root_cause
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
        axes.plot(xs, ys, drawstyle="steps-post", color="#2a6fb0")
    axes.set_title(title, fontsize=10)
    axes.set_xlabel("minutes")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def _value(record: dict[str, Any], key: str) -> float | None:
    value = record.get(key)
    return sum(value.values()) if isinstance(value, dict) else value


def overview(totals: dict[str, Any], records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The campaign's headline figures as (name, value) pairs, from its totals and progress records."""
    last = records[-1] if records else {}
    elapsed = float(last.get("elapsed_s", 0.0))
    return [
        ("elapsed", f"{elapsed / 60:.1f} min in {last.get('run', 0)} run(s)"),
        ("cases checked", f"{totals['execs']} ({totals['execs'] / max(elapsed, 1e-9):.1f}/s)"),
        ("worker processes", str(totals["processes"])),
        ("valid-call rate", f"{totals['valid_rate']:.1%}"),
        ("APIs exercised", str(totals["apis_exercised"])),
        ("coverage (cov / ft)", f"{last.get('cov', '-')} / {last.get('ft', '-')}"),
        ("corpus size", str(last.get("corpus", "-"))),
    ]


def meta_root(meta: dict[str, Any]) -> str:
    """A stored finding's root cause (computed for findings stored before root causes were recorded)."""
    if meta.get("root_cause"):
        return str(meta["root_cause"])
    error = str(meta.get("details", {}).get("error", ""))
    return root_cause(meta["library"], meta["api"], meta["kind"], tuple(meta["scenarios"]), error)


def finding_rows(workdir: Workdir, relative_to: Path) -> list[dict[str, Any]]:
    """One row per unique finding, grouped by root cause (most hits first), with its root and whether
    it leads its group."""
    rows = []
    for folder, meta in FindingsStore(workdir.findings).entries():
        rows.append(
            {
                "root": meta_root(meta),
                "api": meta["api"],
                "kind": meta["kind"] + (" (flaky)" if meta.get("details", {}).get("flaky") else ""),
                "scenarios": " vs ".join(meta["scenarios"]),
                "max_error": f"{meta['max_error']:.3g}" if isinstance(meta.get("max_error"), (int, float)) else "-",
                "first_seen": meta["first_seen"],
                "hits": meta["hits"],
                "reproducer": os.path.relpath(folder / REPRO_FILE, relative_to),
                "message": meta["message"],
                "recorded": meta["kind"] in RECORDED_KINDS,
                "flaky": bool(meta.get("details", {}).get("flaky")),
            }
        )
    hits_of_root: dict[str, int] = {}
    for r in rows:
        hits_of_root[r["root"]] = hits_of_root.get(r["root"], 0) + r["hits"]
    rows.sort(key=lambda r: (-hits_of_root[r["root"]], r["root"], -r["hits"], r["kind"], r["api"]))
    for i, r in enumerate(rows):
        r["leads"] = i == 0 or rows[i - 1]["root"] != r["root"]
    return rows


def root_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Unique root causes, of which raised (not only recorded kinds, not only flaky crashes), and findings."""
    roots = {r["root"] for r in rows}
    raised = {r["root"] for r in rows if not r["recorded"] and not r["flaky"]}
    return {"root_causes": len(roots), "raised_root_causes": len(raised), "findings": len(rows)}


def summarize(workdir_path: Path) -> str:
    """A campaign's plain-text summary: statistics over all its runs, then root causes with their findings."""
    place = Workdir(workdir_path)
    totals, records = campaign_totals(place.stats), read_records(place.records)
    lines = []
    if totals["processes"]:
        elapsed = float(records[-1]["elapsed_s"]) if records else totals["worker_s"]
        runs = f"{records[-1]['run']} run(s), " if records else ""
        coverage = f", coverage {records[-1]['cov']}, corpus {records[-1]['corpus']}" if records else ""
        lines.append(
            f"{runs}{elapsed:.0f} s: checked {totals['execs']} cases ({totals['execs'] / max(elapsed, 1e-9):.1f}/s) in "
            f"{totals['processes']} worker process(es), valid-call rate {totals['valid_rate']:.1%}, "
            f"{totals['apis_exercised']} APIs exercised{coverage}"
        )
        lines.append("filtered: " + (", ".join(f"{k} {v}" for k, v in sorted(totals["filtered"].items())) or "none"))
        harness = totals.get("harness_errors", {})
        lines.append(f"harness errors (nabla-atheris' own): {sum(harness.values())}")
        lines += [f"  {count:6} {error}" for error, count in sorted(harness.items(), key=lambda kv: -kv[1])[:10]]
    rows = finding_rows(place, place.root) if place.findings.is_dir() else []
    counts = root_counts(rows)
    lines.append(
        f"root causes: {counts['root_causes']} ({counts['raised_root_causes']} raised, the others recorded or flaky), "
        f"unique findings: {counts['findings']}"
    )
    for r in rows:
        if r["leads"]:
            lines.append(f"  {r['root']}")
        lines.append(f"    {r['kind']:22} {r['api']:40} {r['scenarios']:28} hits {r['hits']}  {r['message'][:80]}")
    return "\n".join(lines)


COLUMNS = ("root", "api", "kind", "scenarios", "max_error", "first_seen", "hits")


def render_markdown(figures: list[tuple[str, str]], rows: list[dict], filtered: dict[str, int], plots: list[str]) -> str:
    lines = ["# nabla-atheris campaign report", "", "| figure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in figures]
    counts = root_counts(rows)
    title = f"## Root causes ({counts['root_causes']}, {counts['raised_root_causes']} raised) and their findings ({len(rows)})"
    lines += ["", title, "", "| " + " | ".join(COLUMNS) + " | reproducer |", "|---" * (len(COLUMNS) + 1) + "|"]
    lines += ["| " + " | ".join(_cell(r, c) for c in COLUMNS) + f" | [repro.py]({r['reproducer']}) |" for r in rows]
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


def render_html(figures: list[tuple[str, str]], rows: list[dict], filtered: dict[str, int], pngs: dict[str, bytes]) -> str:
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>nabla-atheris report</title><style>{STYLE}</style>"]
    parts.append("</head><body><h1>nabla-atheris campaign report</h1><table>")
    parts += [f"<tr><th>{esc(name)}</th><td>{esc(value)}</td></tr>" for name, value in figures]
    parts.append("</table><div>")
    for name, png in pngs.items():
        parts.append(f"<img alt='{esc(name)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>")
    counts = root_counts(rows)
    title = f"Root causes ({counts['root_causes']}, {counts['raised_root_causes']} raised) and their findings ({len(rows)})"
    parts.append(f"</div><h2>{esc(title)}</h2><table><tr>")
    parts += [f"<th>{esc(c)}</th>" for c in COLUMNS] + ["<th>reproducer</th></tr>"]
    for r in rows:
        cells = "".join(f"<td>{_html_cell(r, c)}</td>" for c in COLUMNS)
        parts.append(f"<tr title='{esc(r['message'])}'>{cells}<td><a href='{esc(r['reproducer'])}'>repro.py</a></td></tr>")
    parts.append("</table><h2>Filtered (not findings), by reason</h2><table><tr><th>reason</th><th>cases</th></tr>")
    parts += [f"<tr><td>{esc(k)}</td><td>{v}</td></tr>" for k, v in sorted(filtered.items(), key=lambda kv: -kv[1])]
    parts.append("</table></body></html>")
    return "".join(parts)


def _html_cell(row: dict[str, Any], column: str) -> str:
    if column == "root":
        return f"<b><code>{html.escape(row['root'])}</code></b>" if row["leads"] else ""
    value = html.escape(str(row[column]))
    return f"<code>{value}</code>" if column == "api" else value


def write_report(workdir_path: Path, out: Path) -> tuple[Path, Path]:
    """Write report.html (self-contained) and report.md with its PNG plots into `out`."""
    workdir = Workdir(workdir_path)
    out.mkdir(parents=True, exist_ok=True)
    records = read_records(workdir.records)
    totals = campaign_totals(workdir.stats)
    figures = overview(totals, records)
    rows = finding_rows(workdir, out)
    filtered = totals["filtered"]
    pngs = {name: plot_png(records, key, title) for name, key, title in PLOTS}
    for name, png in pngs.items():
        (out / f"{name}.png").write_bytes(png)
    markdown, page = out / "report.md", out / "report.html"
    markdown.write_text(render_markdown(figures, rows, filtered, list(pngs)))
    page.write_text(render_html(figures, rows, filtered, pngs))
    return page, markdown
