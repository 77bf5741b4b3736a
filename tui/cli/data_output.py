"""What `tunedeck data` prints for people: problems, summary, histogram, splits, versions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import typer

from tui.cli.output import StderrLine, excerpt, local_time, print_table, say

if TYPE_CHECKING:
    from core.data import CheckReport, CleanResult, Progress, SplitResult, Summary
    from storage.datasets import DatasetVersion

_BAR_WIDTH = 40


class ProgressLine(StderrLine):
    """A progress line on stderr while a file is read, only when stderr is a terminal."""

    def __init__(self, label: str) -> None:
        super().__init__(interval=0.2)
        self._label = label

    def __call__(self, progress: Progress) -> None:
        self.show(lambda: self._line(progress))

    def _line(self, progress: Progress) -> str:
        share = progress.bytes_read / progress.total_bytes if progress.total_bytes else 1
        return (
            f"{self._label}: {share:.0%}, {progress.lines:,} lines, "
            f"{progress.examples:,} examples ({progress.phase})"
        )


def print_check(report: CheckReport, version_id: int, kinds: Sequence[str], limit: int) -> None:
    """The problems (up to `limit`, only `kinds` if given) and the summary of a check."""
    fmt = report.format or "unknown format"
    typer.echo(
        f"{report.path}: {fmt}, {report.summary.examples:,} valid examples on "
        f"{report.lines:,} lines, {_size(report.size_bytes)} (dataset version {version_id})"
    )
    notes = [note for note in (_bom_note(report), _crlf_note(report)) if note]
    if notes:
        typer.echo("note: " + "; ".join(notes))
    _print_problems(report, kinds, limit)
    print_summary(report.summary, report.model)


def _bom_note(report: CheckReport) -> str:
    return "starts with a UTF-8 byte order mark (ignored)" if report.bom else ""


def _crlf_note(report: CheckReport) -> str:
    return f"{report.crlf_lines:,} lines end in CRLF (accepted)" if report.crlf_lines else ""


def _print_problems(report: CheckReport, kinds: Sequence[str], limit: int) -> None:
    problems = report.problems
    if not len(problems):
        typer.echo("problems: none")
        return
    categories = ", ".join(
        f"{name} {count:,}" for name, count in problems.category_counts().items()
    )
    typer.echo(f"problems: {len(problems):,} ({categories})")
    by_kind = ", ".join(f"{kind} {count:,}" for kind, count in problems.counts().items())
    typer.echo(f"  by kind: {by_kind}")
    shown = problems.page(0, limit, kinds)
    if shown:
        print_table(
            ["line", "kind", "where", "span", "detail"],
            [
                [
                    p.line,
                    p.kind,
                    p.where,
                    f"{p.span[0]}-{p.span[1]}" if p.span else "",
                    p.message + (f": {excerpt(p.excerpt, 40)}" if p.excerpt else ""),
                ]
                for p in shown
            ],
        )
    listed = len(problems.page(0, 1 << 62, kinds)) if kinds else len(problems.details())
    if listed > len(shown):
        typer.echo(f"... {listed - len(shown):,} more listed with --limit or --json")
    if problems.truncated:
        typer.echo(f"(details kept for the first {problems.max_details:,} problems found)")


def print_summary(summary: Summary, model: str) -> None:
    """Messages, token statistics, histogram, trained tokens and the training estimate."""
    if summary.messages is not None:
        m = summary.messages
        typer.echo(f"messages per example: min {m.min}, mean {m.mean:.1f}, max {m.max}")
    stats = summary.tokens
    if stats is None:
        typer.echo("tokens: no valid example")
        return
    estimate = "" if summary.tokens_exact else " (estimated: tokenizer or framing not exact)"
    typer.echo(
        f"tokens per example ({model}){estimate}: min {stats.min:,}, p5 {stats.p5:,}, "
        f"median {stats.median:,.0f}, mean {stats.mean:,.1f}, p95 {stats.p95:,}, "
        f"max {stats.max:,}; total {stats.total:,}"
    )
    if summary.context is None:
        typer.echo(f"training context of {model}: unknown (give --max-tokens to check it)")
    else:
        typer.echo(
            f"training context: {summary.context:,} tokens; "
            f"{summary.over_context:,} examples over it"
        )
    _print_histogram(summary)
    cost = summary.cost
    price = (
        "cost unknown (no training price for this model in genai-prices)"
        if cost.cost_usd is None
        else f"about ${cost.cost_usd:,.2f}"
    )
    typer.echo(f"trained tokens per epoch: {summary.trained_tokens:,}")
    typer.echo(
        f"estimated training: {cost.epochs} epochs, {cost.billed_tokens:,} billed tokens; {price}"
    )


def _print_histogram(summary: Summary) -> None:
    bins = summary.histogram
    top = max((b.count for b in bins), default=0)
    if not top:
        return
    typer.echo("tokens histogram:")
    for b in bins:
        bar = "#" * round(_BAR_WIDTH * b.count / top)
        typer.echo(f"  {b.low:>9,} - {b.high - 1:<9,} {bar:<{_BAR_WIDTH}} {b.count:,}")


def print_clean(result: CleanResult, version_id: int) -> None:
    """What `clean` kept, dropped and wrote."""
    total = result.report.lines
    typer.echo(
        f"kept {result.kept:,} of {total:,} lines -> {result.output.path} "
        f"(dataset version {version_id})"
    )
    if result.dropped:
        counts = ", ".join(f"{k} {n:,}" for k, n in result.dropped_by_kind.items())
        typer.echo(f"dropped {result.dropped:,} lines: {counts}")
    typer.echo(f"report of dropped lines: {result.report_file.path}")
    print_summary(result.summary, result.report.model)


def print_split(result: SplitResult, ids: dict[str, int | None]) -> None:
    """The parts a split wrote, its strata, and its leaks."""
    rows = [
        ["train", result.train_summary.examples, str(result.train.path), ids["train_version_id"]],
        [
            "heldout",
            result.heldout_summary.examples,
            str(result.heldout.path),
            ids["heldout_version_id"],
        ],
    ]
    if result.suite is not None:
        rows.append(["suite", result.suite_cases, str(result.suite.path), ids["suite_version_id"]])
    print_table(["part", "examples", "file", "version"], rows)
    if result.skipped_lines:
        say(f"{result.skipped_lines:,} lines are not valid examples and were left out")
    if result.suite_skipped:
        say(f"{result.suite_skipped:,} held-out examples have no text answer: not in the suite")
    if result.strata:
        print_table(
            ["stratum", "train", "heldout"],
            [[name, train, held] for name, (train, held) in sorted(result.strata.items())],
        )
    if not result.leaks:
        typer.echo("leakage: none (no held-out example duplicates a training example)")
        return
    verb = "moved to train" if result.moved else "still held out (use --move-leaks)"
    typer.echo(f"leakage: {len(result.leaks):,} held-out examples {verb}")
    print_table(
        ["heldout line", "train line", "kind", "similarity"],
        [[x.heldout_line, x.train_line, x.kind, f"{x.similarity:.2f}"] for x in result.leaks],
    )


def print_versions(versions: Sequence[DatasetVersion]) -> None:
    """Dataset versions as a table."""
    print_table(
        ["id", "role", "parent", "examples", "problems", "format", "sha256", "created", "path"],
        [
            [
                v.id,
                v.role,
                v.parent_id or "",
                v.examples,
                "" if v.problems is None else v.problems,
                v.format or "",
                v.sha256[:12],
                local_time(v.created_at),
                v.path,
            ]
            for v in versions
        ],
    )


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    scaled = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        scaled /= 1024
        if scaled < 1024 or unit == "GiB":
            break
    return f"{scaled:.1f} {unit}"
