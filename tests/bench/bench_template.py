"""Prompt template rendering cost, in microseconds a render (not collected by pytest).

Run: python tests/bench/bench_template.py [--renders N] [--rounds R]

Renders the prompt of a 2,000-case suite (each case its own vars) with: the renderer before
Jinja2 (read from `git show HEAD~N:core/evals/template.py` when `--before REV` is given), the
plain-placeholder fast path, the same template forced through Jinja2 (a no-op tag added),
and a nunjucks template with a filter and a loop. Medians of the rounds; compare the ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PLAIN = "Question number {{ n }} about {{ topic.name }}: what is {{ n }} plus {{ items[0] }}?"
FORCED = PLAIN + "{% if true %}{% endif %}"
NUNJUCKS = "{% for i in items %}{{ i | upper }} {% endfor %}{{ topic | dump }} {{ n }}"

Render = Callable[[str, Mapping[str, Any]], str]


def per_render_us(render: Render, template: str, cases: list[dict[str, Any]]) -> float:
    began = time.perf_counter()
    for variables in cases:
        render(template, variables)
    return (time.perf_counter() - began) / len(cases) * 1e6


def renderer_at(revision: str) -> Render:
    source = subprocess.run(
        ["git", "show", f"{revision}:core/evals/template.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "template_before.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("template_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    render: Render = module.render
    return render


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", help="a git revision whose template.py to compare with")
    args = parser.parse_args()
    from core.evals.template import render

    cases = [
        {"n": i, "topic": {"name": f"t{i}"}, "items": [f"a{i}", "b"]} for i in range(args.renders)
    ]
    runs: dict[str, tuple[Render, str]] = {"fast path": (render, PLAIN)}
    if args.before:
        runs = {"before": (renderer_at(args.before), PLAIN), **runs}
        assert all(runs["before"][0](PLAIN, c) == render(PLAIN, c) for c in cases)
    runs["plain forced via Jinja2"] = (render, FORCED)
    runs["nunjucks (for, filters)"] = (render, NUNJUCKS)
    timings: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, (function, template) in runs.items():
            timings[name].append(per_render_us(function, template, cases))
    base = statistics.median(timings[next(iter(runs))])
    for name, values in timings.items():
        median = statistics.median(values)
        spread = ", ".join(f"{value:.1f}" for value in values)
        print(f"{name:26} {median:6.1f} us a render  ({median / base:.2f}x)   [{spread}]")


if __name__ == "__main__":
    main()
