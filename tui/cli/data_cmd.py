"""`tunedeck data`: check, clean and split fine-tuning files; their versions and lineage.

Exit codes: `check` 0 when the file is clean, 1 when problems were found, 2 when it cannot be
read; `split` 1 when held-out examples leak into train and were not moved.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tui.cli.data_output import (
    ProgressLine,
    print_check,
    print_clean,
    print_split,
    print_versions,
)
from tui.cli.output import print_json
from tui.engine import engine

if TYPE_CHECKING:
    from core.data import CheckOptions, SplitResult

data_app = typer.Typer(help="Check, clean and split fine-tuning data.", no_args_is_help=True)

File = Annotated[Path, typer.Argument(help="A JSONL training file.")]
Model = Annotated[
    str, typer.Option("--model", "-m", help="Model whose tokenizer and training context apply.")
]
MaxTokens = Annotated[
    int | None, typer.Option("--max-tokens", help="Training context to check against.")
]
Format = Annotated[
    str | None, typer.Option("--format", help="Force chat, preference or completion.")
]
Threshold = Annotated[
    float, typer.Option("--threshold", help="Similarity (0-1] of near-duplicates.")
]
Near = Annotated[
    bool, typer.Option("--near/--no-near", help="Look for near-duplicates (MinHash/LSH).")
]
Epochs = Annotated[int | None, typer.Option("--epochs", help="Epochs of the cost estimate.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _options(
    model: str,
    max_tokens: int | None,
    fmt: str | None,
    threshold: float,
    near: bool,
    epochs: int | None,
) -> CheckOptions:
    from core.data import CheckOptions

    return CheckOptions(
        model=model,
        max_tokens=max_tokens,
        format=fmt,
        near_threshold=threshold,
        near_duplicates=near,
        epochs=epochs,
    )


@data_app.command("check")
def data_check(
    file: File,
    model: Model = "gpt-4o-mini",
    max_tokens: MaxTokens = None,
    fmt: Format = None,
    threshold: Threshold = 0.8,
    near: Near = True,
    epochs: Epochs = None,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", "-k", help="Show only problems of this kind.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="Problems shown.")] = 50,
    as_json: AsJson = False,
) -> None:
    """Every problem of a training file by line, token statistics and training cost."""
    from core.data import KINDS, check_file
    from core.data.lineage import record_check
    from core.errors import BadInput

    unknown = [name for name in kind or [] if name not in KINDS]
    if unknown:
        raise BadInput(f"unknown problem kind {unknown[0]!r}; kinds: {', '.join(KINDS)}")
    options = _options(model, max_tokens, fmt, threshold, near, epochs)
    with ProgressLine("checking") as progress:
        report = check_file(file, options, progress=progress)
    version = record_check(engine().store, report)
    if as_json:
        print_json({"version_id": version.id, **report.to_dict()})
    else:
        print_check(report, version.id, kinds=kind or [], limit=limit)
    if not report.clean:
        raise typer.Exit(1)


@data_app.command("clean")
def data_clean(
    file: File,
    output: Annotated[Path, typer.Option("--output", "-o", help="The cleaned file to write.")],
    near_duplicates: Annotated[
        bool, typer.Option("--near-duplicates", help="Also drop near-duplicates.")
    ] = False,
    drop: Annotated[
        list[str] | None, typer.Option("--drop", help="Also drop lines with this problem kind.")
    ] = None,
    report_file: Annotated[
        Path | None, typer.Option("--report", help="Where to write the list of dropped lines.")
    ] = None,
    model: Model = "gpt-4o-mini",
    max_tokens: MaxTokens = None,
    fmt: Format = None,
    threshold: Threshold = 0.8,
    epochs: Epochs = None,
    as_json: AsJson = False,
) -> None:
    """Write FILE without invalid lines and duplicates (atomically; FILE is never changed)."""
    from core.data import clean_file, drop_kinds
    from core.data.lineage import record_check, record_written

    kinds = drop_kinds(near_duplicates, drop or [])
    options = _options(model, max_tokens, fmt, threshold, near_duplicates, epochs)
    with ProgressLine("checking") as progress:
        result = clean_file(
            file, output, drop=kinds, report_path=report_file, options=options, progress=progress
        )
    store = engine().store
    source = record_check(store, result.report)
    cleaned = record_written(
        store, result.output, role="clean", parent=source, summary=result.summary
    )
    if as_json:
        print_json(
            {
                "source_version_id": source.id,
                "version_id": cleaned.id,
                "output": str(result.output.path),
                "sha256": result.output.sha256,
                "report": str(result.report_file.path),
                "kept": result.kept,
                "dropped": result.dropped,
                "dropped_by_kind": result.dropped_by_kind,
            }
        )
        return
    print_clean(result, cleaned.id)


@data_app.command("split")
def data_split(
    file: File,
    out_dir: Annotated[Path, typer.Option("--output", "-o", help="Directory to write into.")],
    holdout: Annotated[float, typer.Option("--holdout", help="Fraction held out.")] = 0.1,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the draw.")] = 0,
    stratify_by: Annotated[
        str | None, typer.Option("--stratify-by", help="Key (a.b.c) to stratify on.")
    ] = None,
    move_leaks: Annotated[
        bool, typer.Option("--move-leaks", help="Move leaked held-out examples to train.")
    ] = False,
    as_suite: Annotated[
        str | None, typer.Option("--as-suite", help="Also write held-out as suite NAME.")
    ] = None,
    model: Model = "gpt-4o-mini",
    max_tokens: MaxTokens = None,
    fmt: Format = None,
    threshold: Threshold = 0.8,
    near: Near = True,
    as_json: AsJson = False,
) -> None:
    """Deterministic train / held-out split into DIR, checked for leakage."""
    from core.data import split_file

    options = _options(model, max_tokens, fmt, threshold, near, None)
    with ProgressLine("checking") as progress:
        result = split_file(
            file,
            out_dir,
            holdout=holdout,
            seed=seed,
            stratify_by=stratify_by,
            move_leaks=move_leaks,
            suite_name=as_suite,
            options=options,
            progress=progress,
        )
    ids = _record_split(result)
    if as_json:
        print_json({**ids, **_split_json(result, as_suite)})
    else:
        print_split(result, ids)
    if result.leaks and not result.moved:
        raise typer.Exit(1)


@data_app.command("versions")
def data_versions(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000)] = 20,
    as_json: AsJson = False,
) -> None:
    """Dataset versions, newest first."""
    from storage.datasets import DatasetVersions

    versions = DatasetVersions(engine().store).page(limit=limit)
    if as_json:
        print_json(versions)
        return
    print_versions(versions)


@data_app.command("lineage")
def data_lineage(
    version_id: Annotated[int, typer.Argument(help="A dataset version id.")],
    as_json: AsJson = False,
) -> None:
    """A version and the versions it was made from, back to the original file."""
    from core.errors import BadInput
    from storage.datasets import DatasetVersions

    chain = DatasetVersions(engine().store).lineage(version_id)
    if not chain:
        raise BadInput(f"dataset version {version_id}: not found")
    if as_json:
        print_json(chain)
        return
    print_versions(chain)


def _record_split(result: SplitResult) -> dict[str, int | None]:
    from core.data.lineage import record_check, record_written

    store = engine().store
    source = record_check(store, result.report)
    train = record_written(
        store, result.train, role="train", parent=source, summary=result.train_summary
    )
    heldout = record_written(
        store, result.heldout, role="heldout", parent=source, summary=result.heldout_summary
    )
    suite = None
    if result.suite is not None:
        suite = record_written(
            store, result.suite, role="suite", parent=heldout, examples=result.suite_cases
        ).id
    return {
        "source_version_id": source.id,
        "train_version_id": train.id,
        "heldout_version_id": heldout.id,
        "suite_version_id": suite,
    }


def _split_json(result: SplitResult, suite_name: str | None) -> dict[str, object]:
    from core.data.report import jsonable

    return {
        "train": {"path": str(result.train.path), "sha256": result.train.sha256},
        "heldout": {"path": str(result.heldout.path), "sha256": result.heldout.sha256},
        "suite": None
        if result.suite is None
        else {"name": suite_name, "path": str(result.suite.path), "cases": result.suite_cases},
        "train_examples": result.train_summary.examples,
        "heldout_examples": result.heldout_summary.examples,
        "skipped_lines": result.skipped_lines,
        "leaks": jsonable(result.leaks),
        "leaks_moved": result.moved,
        "strata": {name: list(counts) for name, counts in result.strata.items()},
    }
