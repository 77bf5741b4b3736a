"""Read a promptfoo config (`promptfooconfig.yaml`) as a tunedeck suite, unchanged.

Cases: one per test, times the combinations of its array vars (promptfoo's var expansion),
times the prompts. Case ids follow the test, not its position, so that runs of two versions
of a config pair each test with itself (`core.evals.caseids`):

- a test's own `metadata.id`, kept as written (`<id>.<K>` for its K-th var combination when
  there are several, as before);
- else its `description` when no other test has the same one (promptfoo users name tests by
  description), with `.<hash of the vars>` for each combination when there are several;
- else `t-` and 8 hex digits of the hash of its vars (defaultTest's included, after
  expansion): `t-1a2b3c4d`. Tests with the same vars get `-2`, `-3`, ... in file order, with a
  warning (give them a description or an id).

When the config has several prompts, each case id ends with `:` and the prompt's own `id`
(`{id: terse, raw: ...}`) or `label`, else `p<M>` for the M-th prompt: editing a prompt's
text keeps its cases paired with the old prompt's, which is what prompt regression testing
compares. Runs stored before ids were made this way keep their `t1:p1`-style ids.
`metadata.critical: true` marks a case critical, and `metadata.tags` (a list, or
comma-separated) tags it.

The suite is named by the config's `description:`; without one, by its folder when the file
has promptfoo's default name (`promptfooconfig.yaml`, `.yml`, `.json`: every project has one),
else by the file name without its extension. Runs of suites of one name are compared as
versions of one suite.

What tunedeck does with each promptfoo feature a file uses:

| feature                                              | tunedeck                               |
|------------------------------------------------------|----------------------------------------|
| prompts: text, `file://` .txt/.md (split on `---`),  | supported                              |
| .json/.yaml/.jsonl chat lists, globs, {raw, label},  |                                        |
| paths without `file://`; none: each test's `prompt`  |                                        |
| promptfoo's own providers (echo, http, ...)          | no model: --model is needed            |
| prompts from .py/.js files (prompt functions)        | refused                                |
| providers                                            | recorded; the first OpenAI-style id is |
|                                                      | the default model (--model wins); its  |
|                                                      | config's sampling parameters are used  |
| several providers                                    | warning: a run uses one model          |
| tests: inline, `file://` .yaml/.json/.jsonl/.csv,    | supported                              |
| globs, folders                                       |                                        |
| tests from .py/.js, `huggingface://` datasets        | refused                                |
| defaultTest (inline or `file://`): vars, assert,     | merged into each test, as promptfoo    |
| threshold, options, metadata                         | does                                   |
| vars: arrays (expanded), `file://` text files (read, | supported                              |
| globs expanded), `options.disableVarExpansion`       |                                        |
| vars from .py/.js, images                            | refused                                |
| assert: type, value, threshold, weight, metric,      | supported (see core.evals.scorers for  |
| config (python)                                      | the types)                             |
| assert type similar (embeddings)                     | warning: a fuzzy text ratio, offline,  |
|                                                      | default threshold 0.8 (core.evals.     |
|                                                      | scorers)                               |
| assert types assert-set, select-best, g-eval,        | refused, naming the type               |
| factuality, ... (any unlisted type)                  |                                        |
| `$ref: '#/assertionTemplates/x'` in the config's     | expanded (core.evals.promptfoo_refs);  |
| tests and defaultTest                                | an unknown one refused with its line   |
| python asserts: inline code, file://x.py[:fn]        | supported (core.evals.custom)          |
| javascript asserts: an expression, a function body,  | supported, on QuickJS                  |
| file://x.js[:fn]; CSV `javascript:`/`fn:` cells      | (core.evals.javascript)                |
| `defaultTest.options.provider` (an OpenAI-style id)  | the judge of llm-rubric (--judge-model |
|                                                      | wins)                                  |
| assertion `provider`, a test's `options.provider`    | warning: the run's judge grades        |
| `options.transform` (and `postprocess`), assertion   | run before scoring: JavaScript on      |
| `transform`: JavaScript, file://x.js[:fn],           | QuickJS, Python as python scorers run  |
| file://x.py[:fn] (`get_transform` by default)        | (core.evals.transforms)                |
| `options.prefix/suffix`, `rubricPrompt`,             | refused: they change what is sent or   |
| `contextTransform`                                   | scored                                 |
| test `prompts`/`provider`/`providerOutput`/          | refused                                |
| `assertScoringFunction`, `options.storeOutputAs`     |                                        |
| test `providers` filter, `options.runSerially`       | warning, ignored                       |
| scenarios, extensions, nunjucksFilters, redteam      | refused (all a config uses, at once)   |
| nunjucks templates: filters, `{% if %}`, `{% for %}`,| rendered with Jinja2, sandboxed, with  |
| `dump`/`load` (core.evals.template)                  | nunjucks' filters                      |
| a .json/.yaml chat file with tags between messages   | rendered whole, then read as the chat  |
|                                                      | (core.evals.chatfile); in .jsonl:      |
|                                                      | refused                                |
| `_conversation`, `metadata.conversationId`           | turns sent in order with the earlier   |
|                                                      | ones (core.evals.conversations)        |
| `options.disableConversationVar`                     | refused                                |
| evaluateOptions, outputPath, sharing, env, tags,     | warning, ignored                       |
| commandLineOptions, writeLatestResults, and any      |                                        |
| other top-level key                                  |                                        |
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.evals.caseids import IdRequest, assign_ids, content_digest
from core.evals.cases import (
    SuiteParts,
    assertion_list,
    build_case,
    case_id,
    check_unique_ids,
    flag,
    mapping,
    optional_text,
    request_params,
    text_list,
)
from core.evals.checks import refused_assertion
from core.evals.promptfoo_files import RawTest, expand, refuse_script, tests_in
from core.evals.promptfoo_prompts import read_prompts, spaced
from core.evals.promptfoo_refs import expand_assertion_refs
from core.evals.promptfoo_scan import REFUSED_TEST, REFUSED_TOP, unsupported_features
from core.evals.sources import Sources, SuiteProblem
from core.evals.suite import Case, Suite, model_of_provider
from core.evals.transforms import TEST_TRANSFORM, normalise, written_test_transform
from core.evals.yamlfile import line_of, read_json, read_yaml

MAX_COMBINATIONS = 10_000
"""A test whose array vars expand to more cases than this is refused."""

_DEFAULT_CONFIG_NAMES = {"promptfooconfig.yaml", "promptfooconfig.yml", "promptfooconfig.json"}
_USED_TOP = {"description", "prompts", "providers", "tests", "defaultTest", "assertionTemplates"}
_TEST_KEYS = {"vars", "assert", "description", "threshold", "metadata", "options"}
_IGNORED_OPTIONS = {"provider", "runSerially"}
_READ_OPTIONS = {"disableVarExpansion", "transform", "postprocess"}
_PARAM_KEYS = {
    "temperature", "max_tokens", "top_p", "seed", "stop", "presence_penalty",
    "frequency_penalty", "response_format",
}  # fmt: skip


def read_config(document: dict[str, Any], sources: Sources) -> Suite:
    """Build a suite from a parsed promptfoo config read from `sources`.

    Raises:
        SuiteProblem: an invalid config, or a feature tunedeck does not support.
    """
    document = expand_assertion_refs(document)
    features = unsupported_features(document)
    if len(features) > 1:
        raise SuiteProblem(
            f"the config uses {len(features)} promptfoo features tunedeck does not support: "
            + "; ".join(features)
        )
    parts = SuiteParts(sources)
    _check_top(document, parts)
    parts.prompts = read_prompts(document.get("prompts"), sources)
    providers, params = _providers(document.get("providers"), sources, parts)
    default = _default_test(document.get("defaultTest"), sources)
    judge = _judge(default, parts)
    plans = []
    for number, test in enumerate(_tests(document.get("tests"), sources), start=1):
        try:
            plans.append(_plan(test, number, default, parts))
        except SuiteProblem as problem:
            raise problem.located(file=test.file, line=test.line) from None
    if document.get("prompts") is None:
        _check_prompt_vars(plans)
    cases: list[Case] = []
    for plan, combo_ids in zip(plans, _combo_ids(plans, parts), strict=True):
        try:
            cases.extend(_built(plan, combo_ids, parts))
        except SuiteProblem as problem:
            raise problem.located(file=plan.test.file, line=plan.test.line) from None
    if not cases:
        raise SuiteProblem("the config has no tests")
    check_unique_ids(cases)
    _warn_similar(cases, parts)
    description = optional_text(document.get("description"), "description")
    return Suite(
        name=suite_name(description, sources.path),
        path=str(sources.path.resolve()),
        format="promptfoo",
        version=sources.version(),
        description=description,
        prompts=parts.prompts,
        params=request_params(params, line_of(document.get("providers"))),
        providers=providers,
        judge_model=judge,
        cases=cases,
        warnings=parts.warnings,
    )


def _check_prompt_vars(plans: list[_Plan]) -> None:
    """A config without `prompts:` sends each test's var `prompt`, as promptfoo does."""
    for plan in plans:
        if any("prompt" not in combo for combo in plan.combos):
            raise SuiteProblem(
                "the config has no prompts:, so each test's var `prompt` is its prompt (as in"
                " promptfoo), and this test has none",
                file=plan.test.file,
                line=plan.test.line,
            )


def suite_name(description: str | None, path: Path) -> str:
    """The name of the suite a promptfoo config at `path` makes (see the module)."""
    if description and description.strip():
        return " ".join(description.split())
    folder = path.resolve().parent.name
    if path.name.lower() in _DEFAULT_CONFIG_NAMES and folder:
        return folder
    return path.stem


def _warn_similar(cases: list[Case], parts: SuiteParts) -> None:
    if any(item.base_type == "similar" for case in cases for item in case.assertions):
        parts.warn(
            "similar: scored by a fuzzy text ratio (offline, default threshold 0.8), not by"
            " embeddings as promptfoo does: its thresholds do not mean the same"
        )


def _check_top(document: dict[str, Any], parts: SuiteParts) -> None:
    for key in document:
        if key in REFUSED_TOP:
            raise SuiteProblem(f"{REFUSED_TOP[key]} ({key}:) are not supported by tunedeck")
        if key not in _USED_TOP:
            parts.warn(f"{key}: ignored")


def _providers(value: Any, sources: Sources, parts: SuiteParts) -> tuple[list[str], dict[str, Any]]:
    if isinstance(value, str) and value.startswith("file://"):
        value = _read_data(sources.resolve(value), sources)
    if value is None:
        return [], {}
    if isinstance(value, dict) and "id" not in value:  # {provider id: options}
        value = [{**mapping(options, "providers"), "id": key} for key, options in value.items()]
    items = value if isinstance(value, list) else [value]
    ids, configs = [], []
    for item in items:
        provider = {"id": item} if isinstance(item, str) else item
        if not isinstance(provider, dict) or not isinstance(provider.get("id"), str):
            raise SuiteProblem("providers: each provider needs an id (like openai:gpt-4o-mini)")
        ids.append(provider["id"])
        configs.append(mapping(provider.get("config"), "providers.config"))
    if len(ids) > 1:
        parts.warn(f"{len(ids)} providers: a run uses one model (--model, else {ids[0]})")
    if ids and model_of_provider(ids[0]) is None:
        parts.warn(f"provider {ids[0]} is not an OpenAI-compatible model: run with --model")
    return ids, _sampling(configs[0] if configs else {}, parts)


def _sampling(config: dict[str, Any], parts: SuiteParts) -> dict[str, Any]:
    for key in sorted(set(config) - _PARAM_KEYS):
        parts.warn(f"providers config {key}: ignored")
    return {key: config[key] for key in _PARAM_KEYS if key in config}


def _default_test(value: Any, sources: Sources) -> dict[str, Any]:
    """`defaultTest`, its keys and its assertions' promptfoo features checked where it is
    written (a problem found later, in a test, would be told at the test)."""
    file = None
    if isinstance(value, str) and value.startswith("file://"):
        path = sources.resolve(value)
        value, file = _read_data(path, sources), sources.name_of(path)
    default = mapping(value, "defaultTest")
    try:
        _check_test_keys(default, "defaultTest")
        _default_transform(default.get("options"), sources)
        for raw in assertion_list(default.get("assert"), "defaultTest.assert"):
            refused = refused_assertion(raw)
            if refused is not None:
                raise SuiteProblem(f"defaultTest: {refused}", line=line_of(raw))
    except SuiteProblem as problem:
        raise problem.located(file=file, line=line_of(default)) from None
    return default


def _default_transform(options: Any, sources: Sources) -> None:
    try:
        _test_transform(mapping(options, "defaultTest.options"), sources)
    except SuiteProblem as problem:
        raise SuiteProblem(f"defaultTest: {problem.reason}", line=line_of(options)) from None


def _judge(default: dict[str, Any], parts: SuiteParts) -> str | None:
    """The model of `defaultTest.options.provider`, promptfoo's grader of model-graded
    assertions, taken out of the options merged into each test (a test's own is ignored)."""
    options = mapping(default.get("options"), "defaultTest.options")
    if "provider" not in options:
        return None
    provider = options["provider"]
    default["options"] = {key: value for key, value in options.items() if key != "provider"}
    name = provider.get("id") if isinstance(provider, dict) else provider
    if not isinstance(name, str) or not name:
        raise SuiteProblem("defaultTest: options.provider must be a provider id or {id: ...}")
    model = model_of_provider(name)
    if model is None:
        parts.warn(
            f"defaultTest options.provider {name} is not an OpenAI-compatible model: llm-rubric"
            " is graded by --judge-model, else the model under test"
        )
    return model


def _read_data(path: Path, sources: Sources) -> Any:
    text, name = sources.read_text(path), sources.name_of(path)
    if path.suffix.lower() == ".json":
        return read_json(text, name)
    return read_yaml(text, name, as_promptfoo=True)


def _tests(value: Any, sources: Sources) -> list[RawTest]:
    if value is None:
        return [RawTest({}, None, None)]  # promptfoo runs each prompt once
    items = value if isinstance(value, list) else [value]
    tests: list[RawTest] = []
    for item in items:
        if isinstance(item, dict):
            tests.append(RawTest(item, line_of(item), None))
        elif isinstance(item, str) and item.startswith("file://"):
            for path in expand(item, sources):
                tests.extend(tests_in(path, sources))
        elif isinstance(item, str) and "://" in item:
            scheme = item.split("://", 1)[0]
            raise SuiteProblem(f"tests from {scheme}:// are not supported (only file://)")
        else:
            raise SuiteProblem("tests: must be a list of tests or a file://path")
    return tests


def _check_test_keys(test: dict[str, Any], where: str = "") -> None:
    """Refuse unsupported or unknown test keys (`where` prefixes the message: defaultTest)."""
    prefix = f"{where}: " if where else ""
    for key in test:
        if key in REFUSED_TEST:
            raise SuiteProblem(f"{prefix}{REFUSED_TEST[key]} are not supported")
        if key not in _TEST_KEYS | {"providers"}:
            raise SuiteProblem(f"{prefix}{key!r} is not a promptfoo test key")


@dataclass
class _Plan:
    """A test read and expanded, before its cases are built (their ids need every test)."""

    test: RawTest
    combos: list[dict[str, Any]]
    shared: dict[str, Any]
    raw_assertions: list[Any]
    written_id: str | None
    description: str | None = field(default=None)
    transform: str | None = field(default=None)
    """The test's `options.transform`, normalised (`core.evals.transforms`)."""


def _plan(test: RawTest, number: int, default: dict[str, Any], parts: SuiteParts) -> _Plan:
    own = test.data
    written = case_id(mapping(own.get("metadata"), "metadata").get("id"))
    description = optional_text(own.get("description"), "description")
    try:
        return _expanded(test, number, written, description, default, parts)
    except SuiteProblem as problem:
        raise problem.located(case=written or description) from None


def _expanded(
    test: RawTest,
    number: int,
    written: str | None,
    description: str | None,
    default: dict[str, Any],
    parts: SuiteParts,
) -> _Plan:
    own = test.data
    _check_test_keys(own)
    if "providers" in own:
        parts.warn(f"test {number}: providers filter ignored, a run uses one model")
    options = _options(_merged(default, own, "options"), parts)
    variables = {
        **mapping(default.get("vars"), "defaultTest.vars"),
        **_vars(own.get("vars"), parts),
    }
    metadata = _merged(default, own, "metadata")
    combos = [variables] if options.get("disableVarExpansion") else _combinations(variables, parts)
    raw_assertions = [*assertion_list(default.get("assert")), *assertion_list(own.get("assert"))]
    shared = {
        "description": description,
        "threshold": own.get("threshold", default.get("threshold")),
        "metadata": metadata,
        "tags": text_list(metadata.get("tags"), "metadata.tags"),
        "critical": flag(metadata.get("critical"), "metadata.critical"),
        "line": test.line,
    }
    transform = _test_transform(options, parts.sources)
    return _Plan(test, combos, shared, raw_assertions, written, description, transform)


def _combo_ids(plans: list[_Plan], parts: SuiteParts) -> list[list[str]]:
    """The id of each var combination of each test (see the module)."""
    names = Counter(spaced(plan.description) for plan in plans if plan.description)
    requests: list[IdRequest] = []
    for plan in plans:
        file, line = plan.test.file or parts.sources.display, plan.test.line
        where = f"{file}:{line}" if line else None
        several = len(plan.combos) > 1
        name = spaced(plan.description) if plan.description else None
        for index, combo in enumerate(plan.combos, start=1):
            if plan.written_id is not None:
                written = f"{plan.written_id}.{index}" if several else plan.written_id
                requests.append(IdRequest(written))
            elif name and names[name] == 1 and not several:
                requests.append(IdRequest(None, name, where=where, named=True))
            elif name and names[name] == 1:
                requests.append(IdRequest(None, f"{name}.", content_digest(combo), where))
            else:
                requests.append(IdRequest(None, "t-", content_digest(combo), where))
    ids = iter(assign_ids(requests, parts.warn, "tests with the same vars"))
    return [[next(ids) for _ in plan.combos] for plan in plans]


def _built(plan: _Plan, combo_ids: list[str], parts: SuiteParts) -> list[Case]:
    cases = []
    for combo, combo_id in zip(plan.combos, combo_ids, strict=True):
        for index, prompt in enumerate(parts.prompts):
            identifier = combo_id if len(parts.prompts) == 1 else f"{combo_id}:{prompt.id}"
            fields = {**plan.shared, "id": identifier, "vars": combo, "prompt": index}
            cases.append(build_case(fields, plan.raw_assertions, parts, plan.transform))
    return cases


def _merged(default: dict[str, Any], own: dict[str, Any], key: str) -> dict[str, Any]:
    return {**mapping(default.get(key), f"defaultTest.{key}"), **mapping(own.get(key), key)}


def _options(options: dict[str, Any], parts: SuiteParts) -> dict[str, Any]:
    for key in options:
        if key in _IGNORED_OPTIONS:
            parts.warn(f"options.{key}: ignored, tunedeck's judge and runner decide")
        elif key not in _READ_OPTIONS:
            raise SuiteProblem(f"options.{key} is not supported by tunedeck")
    return options


def _test_transform(options: dict[str, Any], sources: Sources) -> str | None:
    written = written_test_transform(options)
    return None if written is None else normalise(written, sources, TEST_TRANSFORM)


def _vars(value: Any, parts: SuiteParts) -> dict[str, Any]:
    if isinstance(value, str) and value.startswith("file://"):
        value = _read_data(parts.sources.resolve(value), parts.sources)
    return mapping(value, "vars")


def _combinations(variables: dict[str, Any], parts: SuiteParts) -> list[dict[str, Any]]:
    choices: list[list[Any]] = []
    for name, value in variables.items():
        if isinstance(value, str) and value.startswith("file://"):
            choices.append(_file_var(name, value, parts))
        elif isinstance(value, list) and value and isinstance(value[0], str):
            choices.append(value)
        else:
            choices.append([value])
    count = 1
    for options in choices:
        count *= len(options)
    if count > MAX_COMBINATIONS:
        raise SuiteProblem(f"array vars expand to {count:,} cases (at most {MAX_COMBINATIONS:,})")
    return [dict(zip(variables, combo, strict=True)) for combo in itertools.product(*choices)]


def _file_var(name: str, reference: str, parts: SuiteParts) -> list[str]:
    texts = []
    for path in expand(reference, parts.sources):
        refuse_script(path, f"var {name!r} values")
        texts.append(parts.sources.read_text(path))
    return texts
