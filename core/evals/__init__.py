"""Evaluation suites, scorers and regression statistics: the pure part of `tunedeck eval`.

Nothing here touches the database or the network; a judge model, when a suite needs one, is a
callable the runner passes in.

- `core.evals.loader.load_suite(path) -> Suite`: tunedeck YAML/JSONL suites and promptfoo
  configs, validated completely before anything is sent (`core.errors.BadInput` otherwise).
- `core.evals.suite`: `Suite`, `Case`, `Assertion`, `PromptTemplate`; `Suite.messages_for(case)`.
- `core.evals.scoring.score_case(case, output, judge) -> CaseScore`, with `Output` and `Score`
  from `core.evals.scorers`, the judge from `core.evals.judge`, custom scorers from
  `core.evals.custom`.
- `core.evals.stats`: `mcnemar_exact`, `combine_repeats`, `compare_runs -> Comparison`.
- `core.evals.estimate.estimate_suite`: tokens and cost before a run.
"""
