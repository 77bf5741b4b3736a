"""Prompt template rendering cost, in microseconds a render (not collected by pytest).

Run: python tests/bench/bench_template.py [--renders N] [--rounds R] [--before REV]

Renders the prompt of a 2,000-case suite (each case its own vars) with the plain-placeholder
fast path, the same template forced through Jinja2 (a no-op tag added), and a nunjucks template
with a filter and a loop. With `--before REV`, the same templates are rendered by `core/` as it
was at REV (`git archive`, in a child process, so every module is the old one: template.py and
nunjucks.py alike), round for round with the current tree, and the ratios after/before printed.
CPU time, medians of the rounds (each in a fresh process): compare the ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PLAIN = "Question number {{ n }} about {{ topic.name }}: what is {{ n }} plus {{ items[0] }}?"
FORCED = PLAIN + "{% if true %}{% endif %}"
NUNJUCKS = "{% for i in items %}{{ i | upper }} {% endfor %}{{ topic | dump }} {{ n }}"
TEMPLATES = {
    "fast path": PLAIN,
    "plain forced via Jinja2": FORCED,
    "nunjucks (for, filters)": NUNJUCKS,
}


def one_round(renders: int) -> dict[str, float]:
    """CPU microseconds a render of each template, rendered by the `core` on `sys.path`."""
    from core.evals.template import render

    cases = [{"n": i, "topic": {"name": f"t{i}"}, "items": [f"a{i}", "b"]} for i in range(renders)]
    timings = {}
    for name, template in TEMPLATES.items():
        render(template, cases[0])  # compiled once, as a suite does
        began = time.process_time()
        for variables in cases:
            render(template, variables)
        timings[name] = (time.process_time() - began) / renders * 1e6
    return timings


def tree_at(revision: str) -> Path:
    """`core/` as it was at `revision`, unpacked in a temporary directory."""
    archive = subprocess.run(
        ["git", "archive", revision, "core"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    directory = Path(tempfile.mkdtemp(prefix="bench_template_"))
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(directory, filter="data")
    return directory


def round_in(tree: Path, renders: int) -> dict[str, float]:
    """One round rendered by the `core` of `tree`, in a child process."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", str(tree), "--renders", str(renders)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    timings: dict[str, float] = json.loads(output)
    return timings


def report(after: list[dict[str, float]], before: list[dict[str, float]]) -> None:
    base = statistics.median(r["fast path"] for r in after)
    for name in TEMPLATES:
        median = statistics.median(r[name] for r in after)
        spread = ", ".join(f"{r[name]:.1f}" for r in after)
        line = f"{name:26} {median:6.1f} us a render  ({median / base:.2f}x fast path)"
        if before:
            old = statistics.median(r[name] for r in before)
            line += f"  before {old:6.1f} us  after/before {median / old:.2f}"
        print(f"{line}   [{spread}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", help="a git revision whose core/ to compare with")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, args.child)
        print(json.dumps(one_round(args.renders)))
        return
    old_tree = tree_at(args.before) if args.before else None
    after: list[dict[str, float]] = []
    before: list[dict[str, float]] = []
    for _ in range(args.rounds):
        if old_tree is not None:
            before.append(round_in(old_tree, args.renders))
        after.append(round_in(ROOT, args.renders))
    report(after, before)


if __name__ == "__main__":
    main()
