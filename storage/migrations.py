"""Numbered schema migrations. Never edit one that has shipped: add the next."""

from __future__ import annotations

import sqlite_utils

migrations = sqlite_utils.Migrations("tunedeck")


@migrations()
def m001_calls(db: sqlite_utils.Database) -> None:
    """The request log: one row per call to a model, whatever its outcome."""
    db["calls"].create(  # type: ignore[union-attr]
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "profile": str,
            "endpoint": str,
            "model": str,
            "response_model": str,
            "stream": int,
            "params_json": str,
            "messages_json": str,
            "prompt_text": str,
            "request_key": str,
            "cache_eligible": int,
            "cache_hit": int,
            "status": str,
            "response_text": str,
            "finish_reason": str,
            "tool_calls_json": str,
            "incomplete": int,
            "prompt_tokens": int,
            "completion_tokens": int,
            "cached_tokens": int,
            "reasoning_tokens": int,
            "usage_estimated": int,
            "cost_usd": float,
            "cost_saved_usd": float,
            "ttft_ms": float,
            "latency_ms": float,
            "retries": int,
            "error_type": str,
            "error_message": str,
        },
        pk="id",
        not_null={"started_at", "profile", "endpoint", "model", "status"},
        defaults={"cache_hit": 0, "incomplete": 0, "retries": 0, "usage_estimated": 0},
    )
    calls = db["calls"]
    calls.create_index(["started_at"])  # type: ignore[union-attr]
    calls.create_index(["model", "started_at"])  # type: ignore[union-attr]
    calls.create_index(["request_key"])  # type: ignore[union-attr]
    calls.create_index(  # type: ignore[union-attr]
        [
            "started_at",
            "model",
            "profile",
            "status",
            "cache_hit",
            "prompt_tokens",
            "completion_tokens",
            "cost_usd",
            "cost_saved_usd",
        ],
        index_name="idx_calls_usage",
    )
    calls.enable_fts(  # type: ignore[union-attr]
        ["prompt_text", "response_text"], create_triggers=True, tokenize="porter"
    )


@migrations()
def m002_cache_entries(db: sqlite_utils.Database) -> None:
    """The response cache, with the components of each key kept for inspection."""
    db["cache_entries"].create(  # type: ignore[union-attr]
        {
            "key": str,
            "endpoint": str,
            "model": str,
            "components_json": str,
            "prompt_excerpt": str,
            "response_json": str,
            "prompt_tokens": int,
            "completion_tokens": int,
            "cost_usd": float,
            "size_bytes": int,
            "created_at": str,
            "expires_at": str,
            "last_hit_at": str,
            "hits": int,
            "source_call_id": int,
        },
        pk="key",
        not_null={"endpoint", "model", "components_json", "response_json", "created_at"},
        defaults={"hits": 0},
        foreign_keys=[("source_call_id", "calls", "id")],
    )
    entries = db["cache_entries"]
    entries.create_index(["created_at"])  # type: ignore[union-attr]
    entries.create_index(["expires_at"])  # type: ignore[union-attr]
    entries.create_index(["model"])  # type: ignore[union-attr]


_M003_ROLLUP_COLUMNS = (
    "calls",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "unpriced",
    "cache_hits",
    "cost_saved_usd",
)


def _m003_bucket(row: str) -> str:
    """SQL for the UTC quarter hour (`YYYY-MM-DDTHH:MM`, MM in 00/15/30/45) of a call."""
    minute = f"substr({row}.started_at, 15, 2)"
    return (
        f"substr({row}.started_at, 1, 14) || CASE WHEN {minute} < '15' THEN '00' "
        f"WHEN {minute} < '30' THEN '15' WHEN {minute} < '45' THEN '30' ELSE '45' END"
    )


def _m003_amounts(row: str) -> list[str]:
    """SQL for what one call adds to each rollup column (the same sums as `CallLog.usage`)."""
    return [
        "1",
        f"({row}.status IN ('error', 'incomplete'))",
        f"(CASE WHEN {row}.cache_hit = 0 THEN coalesce({row}.prompt_tokens, 0) ELSE 0 END)",
        f"(CASE WHEN {row}.cache_hit = 0 THEN coalesce({row}.completion_tokens, 0) ELSE 0 END)",
        f"coalesce({row}.cost_usd, 0)",
        f"coalesce({row}.cost_usd IS NULL AND {row}.status = 'ok' AND {row}.cache_hit = 0, 0)",
        f"coalesce({row}.cache_hit, 0)",
        f"coalesce({row}.cost_saved_usd, 0)",
    ]


def _m003_upsert(row: str, sign: str) -> str:
    """A trigger statement adding (`sign` '+') or removing ('-') one call from the rollup."""
    values = ", ".join(f"{sign}{amount}" for amount in _m003_amounts(row))
    updates = ", ".join(f"{c} = {c} + excluded.{c}" for c in _M003_ROLLUP_COLUMNS)
    return (
        f"INSERT INTO usage_rollup (bucket, model, profile, {', '.join(_M003_ROLLUP_COLUMNS)}) "
        f"VALUES ({_m003_bucket(row)}, {row}.model, {row}.profile, {values}) "
        f"ON CONFLICT (bucket, model, profile) DO UPDATE SET {updates};"
    )


@migrations()
def m003_usage_rollup(db: sqlite_utils.Database) -> None:
    """Quarter-hour totals of the request log per model and profile, kept by triggers; and
    indexes for paging the log by model or by failure.

    The Usage pane sums rollup rows (at most 96 a day per model and profile) instead of every
    call: 1M calls in 30 days take ~0.6 s to scan through `idx_calls_usage`, their rollup a few
    ms. Buckets are UTC quarter hours, so any local day (time zone offsets are multiples of 15
    minutes) is a whole number of buckets. A later `transform()` of `calls` drops these
    triggers: such a migration must create them again.
    """
    columns = ", ".join(
        f"{c} {'REAL' if c.endswith('usd') else 'INTEGER'} NOT NULL DEFAULT 0"
        for c in _M003_ROLLUP_COLUMNS
    )
    db.execute(
        "CREATE TABLE usage_rollup (bucket TEXT NOT NULL, model TEXT NOT NULL, "
        f"profile TEXT NOT NULL, {columns}, PRIMARY KEY (bucket, model, profile)) WITHOUT ROWID"
    )
    amounts = ", ".join(f"sum({amount})" for amount in _m003_amounts("calls"))
    db.execute(
        f"INSERT INTO usage_rollup SELECT {_m003_bucket('calls')} AS bucket, model, profile, "
        f"{amounts} FROM calls GROUP BY bucket, model, profile"
    )
    watched = "started_at, model, profile, status, cache_hit, prompt_tokens, "
    watched += "completion_tokens, cost_usd, cost_saved_usd"
    forget_empty = (
        f"DELETE FROM usage_rollup WHERE bucket = {_m003_bucket('OLD')} "
        "AND model = OLD.model AND profile = OLD.profile AND calls = 0;"
    )
    triggers = {
        "calls_usage_ai": ("AFTER INSERT ON calls", _m003_upsert("NEW", "+")),
        "calls_usage_ad": ("AFTER DELETE ON calls", _m003_upsert("OLD", "-") + forget_empty),
        "calls_usage_au": (
            f"AFTER UPDATE OF {watched} ON calls",
            _m003_upsert("OLD", "-") + _m003_upsert("NEW", "+") + forget_empty,
        ),
    }
    for name, (when, body) in triggers.items():
        db.execute(f"CREATE TRIGGER {name} {when} BEGIN {body} END")
    db.execute("CREATE INDEX idx_calls_model ON calls (model)")
    db.execute(
        "CREATE INDEX idx_calls_failed ON calls (id) WHERE status IN ('error', 'incomplete')"
    )


_M004_ROLLUP_COLUMNS = (*_M003_ROLLUP_COLUMNS, "lookups", "tokens_saved")


def _m004_amounts(row: str) -> list[str]:
    """SQL for what one call adds to each of `_M004_ROLLUP_COLUMNS`: m003's sums, then the
    cache lookups and the tokens a cache hit did not send or generate again (the same sums
    as `ResponseCache.stats` used to take over every call)."""
    return [
        *_m003_amounts(row),
        f"coalesce({row}.cache_eligible, 0)",
        f"coalesce(CASE WHEN {row}.cache_hit THEN {row}.prompt_tokens + "
        f"{row}.completion_tokens END, 0)",
    ]


def _m004_upsert(row: str, sign: str) -> str:
    """A trigger statement adding (`sign` '+') or removing ('-') one call from the rollup."""
    columns = ", ".join(_M004_ROLLUP_COLUMNS)
    values = ", ".join(f"{sign}{amount}" for amount in _m004_amounts(row))
    updates = ", ".join(f"{c} = {c} + excluded.{c}" for c in _M004_ROLLUP_COLUMNS)
    return (
        f"INSERT INTO usage_rollup (bucket, model, profile, {columns}) "
        f"VALUES ({_m003_bucket(row)}, {row}.model, {row}.profile, {values}) "
        f"ON CONFLICT (bucket, model, profile) DO UPDATE SET {updates};"
    )


def _m004_fill(db: sqlite_utils.Database) -> None:
    """Empty `usage_rollup` and sum every call of the log into it again (m004's columns)."""
    amounts = ", ".join(f"sum({amount})" for amount in _m004_amounts("calls"))
    db.execute("DELETE FROM usage_rollup")
    db.execute(
        f"INSERT INTO usage_rollup (bucket, model, profile, {', '.join(_M004_ROLLUP_COLUMNS)}) "
        f"SELECT {_m003_bucket('calls')} AS bucket, model, profile, {amounts} "
        "FROM calls GROUP BY bucket, model, profile"
    )


def _m004_triggers() -> dict[str, tuple[str, str]]:
    """The rollup's triggers on `calls` (name: when, body), watching m004's columns too."""
    watched = "started_at, model, profile, status, cache_hit, cache_eligible, prompt_tokens, "
    watched += "completion_tokens, cost_usd, cost_saved_usd"
    forget_empty = (
        f"DELETE FROM usage_rollup WHERE bucket = {_m003_bucket('OLD')} "
        "AND model = OLD.model AND profile = OLD.profile AND calls = 0;"
    )
    return {
        "calls_usage_ai": ("AFTER INSERT ON calls", _m004_upsert("NEW", "+")),
        "calls_usage_ad": ("AFTER DELETE ON calls", _m004_upsert("OLD", "-") + forget_empty),
        "calls_usage_au": (
            f"AFTER UPDATE OF {watched} ON calls",
            _m004_upsert("OLD", "-") + _m004_upsert("NEW", "+") + forget_empty,
        ),
    }


@migrations()
def m004_cache_rollup(db: sqlite_utils.Database) -> None:
    """Cache lookups and tokens saved added to `usage_rollup`, so that the cache's all-time
    figures (`ResponseCache.stats`) sum the rollup instead of every call (1.8 s at 1M calls).

    `lookups` counts cache-eligible calls; `tokens_saved` the prompt and completion tokens of
    cache hits. The rollup is filled again from the log (it reads every call once: ~20 s at
    1M calls, on the first open after the upgrade), and the three triggers are dropped and
    created again with the new sums (and `cache_eligible` watched by the update trigger).
    The cache's own figures (entries, bytes, expired) get a covering index: without it they
    read every entry's answer and key components (~0.2 s warm at 100k entries).
    """
    db.execute("CREATE INDEX idx_cache_entries_figures ON cache_entries (expires_at, size_bytes)")
    for column in ("lookups", "tokens_saved"):
        db.execute(f"ALTER TABLE usage_rollup ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")
    triggers = _m004_triggers()
    for name in triggers:
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    _m004_fill(db)
    for name, (when, body) in triggers.items():
        db.execute(f"CREATE TRIGGER {name} {when} BEGIN {body} END")


def rebuild_usage_rollup(db: sqlite_utils.Database) -> None:
    """Sum every call of the log into `usage_rollup` again, from scratch.

    For bulk loads that drop the rollup's triggers to insert faster (a benchmark's database,
    an import): run it after the rows are in, inside the same transaction, so that no reader
    sees a half-filled rollup. The triggers keep the rollup right in normal use.
    """
    _m004_fill(db)  # the rollup as the latest migration that changed it defines it


def usage_amounts(row: str) -> dict[str, str]:
    """Each sum column of `usage_rollup` and the SQL for what one call adds to it.

    Args:
        row: How the SQL names the call's row: a table (`calls`) or `NEW`/`OLD` in a trigger.
    """
    return dict(zip(_M004_ROLLUP_COLUMNS, _m004_amounts(row), strict=True))


_M005_TABLES = (
    """CREATE TABLE eval_suites (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        path TEXT,
        version TEXT NOT NULL,
        format TEXT NOT NULL CHECK (format IN ('native', 'promptfoo')),
        content_json TEXT NOT NULL,
        case_count INTEGER NOT NULL CHECK (case_count >= 0),
        dataset_id INTEGER,
        created_at TEXT NOT NULL,
        UNIQUE (name, version))""",
    """CREATE TABLE eval_runs (
        id INTEGER PRIMARY KEY,
        suite_id INTEGER NOT NULL REFERENCES eval_suites (id),
        suite_name TEXT NOT NULL,
        model TEXT NOT NULL,
        profile TEXT,
        endpoint TEXT,
        params_json TEXT NOT NULL DEFAULT '{}',
        concurrency INTEGER,
        repeats INTEGER NOT NULL DEFAULT 1 CHECK (repeats >= 1),
        status TEXT NOT NULL
            CHECK (status IN ('running', 'completed', 'interrupted', 'failed')),
        started_at TEXT NOT NULL,
        finished_at TEXT,
        pid INTEGER,
        baseline_run_id INTEGER REFERENCES eval_runs (id) ON DELETE SET NULL,
        is_baseline INTEGER NOT NULL DEFAULT 0 CHECK (is_baseline IN (0, 1)),
        adapter_id TEXT,
        cases_total INTEGER NOT NULL DEFAULT 0,
        passed INTEGER,
        failed INTEGER,
        errored INTEGER,
        mean_score REAL,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        cost_usd REAL,
        latency_p50_ms REAL,
        latency_p95_ms REAL)""",
    """CREATE TABLE eval_results (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
        case_id TEXT NOT NULL,
        repeat_index INTEGER NOT NULL DEFAULT 0 CHECK (repeat_index >= 0),
        status TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'error')),
        score REAL CHECK (score BETWEEN 0 AND 1),
        critical INTEGER NOT NULL DEFAULT 0,
        tags_json TEXT NOT NULL DEFAULT '[]',
        output_text TEXT,
        scores_json TEXT NOT NULL DEFAULT '[]',
        error TEXT,
        latency_ms REAL,
        cost_usd REAL,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        cache_hit INTEGER NOT NULL DEFAULT 0,
        call_id INTEGER,
        finished_at TEXT NOT NULL)""",
)

_M005_INDEXES = (
    "CREATE INDEX idx_eval_suites_name ON eval_suites (name, id)",
    "CREATE INDEX idx_eval_runs_suite ON eval_runs (suite_name, id)",
    "CREATE INDEX idx_eval_runs_model ON eval_runs (model, id)",
    "CREATE INDEX idx_eval_runs_suite_model ON eval_runs (suite_name, model, id)",
    "CREATE INDEX idx_eval_runs_completed ON eval_runs (suite_name, id) WHERE status = 'completed'",
    "CREATE INDEX idx_eval_runs_completed_model ON eval_runs (suite_name, model, id)"
    " WHERE status = 'completed'",
    "CREATE INDEX idx_eval_runs_completed_version ON eval_runs (suite_id, model, id)"
    " WHERE status = 'completed'",
    "CREATE UNIQUE INDEX idx_eval_runs_pinned ON eval_runs (suite_name, model)"
    " WHERE is_baseline = 1",
    "CREATE INDEX idx_eval_runs_running ON eval_runs (id) WHERE status = 'running'",
    "CREATE INDEX idx_eval_runs_baseline ON eval_runs (baseline_run_id)"
    " WHERE baseline_run_id IS NOT NULL",
    "CREATE UNIQUE INDEX idx_eval_results_case ON eval_results (run_id, case_id, repeat_index)",
    "CREATE INDEX idx_eval_results_status ON eval_results (run_id, status, case_id, repeat_index)",
)


@migrations()
def m005_evals(db: sqlite_utils.Database) -> None:
    """The evaluation history: suite versions, runs and case results (`storage/evals.py`).

    - `eval_suites`: one row per (name, version); `version` is the SHA-256 of the suite file and
      `content_json` the normalised suite, so a run stays inspectable after its file changed.
      `dataset_id` names the held-out dataset version a suite came from; the datasets table
      arrives later (m006), hence no foreign key.
    - `eval_runs`: a run of one suite version against one model, its status (`running`,
      `completed`, `interrupted`, `failed`), the `pid` running it (a `running` run whose process
      is gone was interrupted), its baseline, and its summary, filled when it finishes.
      `suite_name` repeats the suite's name (copied from `eval_suites` when the run starts, never
      changed) so that a suite's runs across versions are one index range, newest first.
      `is_baseline` pins at most one run per suite name and model (a unique partial index): the
      baseline survives new versions of the suite, whose comparison keeps the shared cases.
    - `eval_results`: one row per case and repeat of a run; UNIQUE (run_id, case_id,
      repeat_index), so a resumed run can never record a case twice; deleted with their run.
      `call_id` is the request log row of the answer, without a foreign key: the log can be
      pruned without touching the history, and the result keeps its own output, tokens, cost
      and latency.

    Every query of the Regressions pane is a range of one of the indexes below, never a scan
    of `eval_results` (which reaches millions of rows). The CHECK constraints and the partial
    indexes are written in SQL: a later `transform()` of these tables must create them again.
    """
    for statement in (*_M005_TABLES, *_M005_INDEXES):
        db.execute(statement)


@migrations()
def m006_datasets(db: sqlite_utils.Database) -> None:
    """Dataset versions: every training file checked, cleaned or split, with its lineage.

    A version is one content (sha256) at one path, in a role: `source` (a file checked as
    given), `clean`, `train`, `heldout` or `suite`. `parent_id` is the version it was made from,
    so a held-out set leads back to the file it was split from. `statistics_json` holds the
    summary and problem counts of the last check (never the examples' text).
    """
    db["dataset_versions"].create(  # type: ignore[union-attr]
        {
            "id": int,
            "path": str,
            "sha256": str,
            "format": str,
            "role": str,
            "parent_id": int,
            "size_bytes": int,
            "lines": int,
            "examples": int,
            "problems": int,
            "statistics_json": str,
            "created_at": str,
            "checked_at": str,
        },
        pk="id",
        not_null={"path", "sha256", "role", "size_bytes", "created_at"},
        foreign_keys=[("parent_id", "dataset_versions", "id")],
    )
    versions = db["dataset_versions"]
    versions.create_index(["sha256", "path"])  # type: ignore[union-attr]
    versions.create_index(["parent_id"])  # type: ignore[union-attr]
    versions.create_index(["created_at"])  # type: ignore[union-attr]


@migrations()
def m007_budgets(db: sqlite_utils.Database) -> None:
    """Budgets, their reservations, monitor rules, alerts and webhook delivery attempts.

    A reservation holds the estimated cost of a paid call in flight, so concurrent callers
    (threads or processes, serialised by `BEGIN IMMEDIATE`) see it before its cost is logged;
    `expires_at` frees it if its process dies. `alerts` has one row per rule, scope, period
    and threshold: the UNIQUE constraint, not a check in Python, makes a crossing alert once.
    Webhooks are stored as the NAME of the environment variable holding the URL (it may
    carry a secret), never the URL itself.

    `usage_daily` sums `usage_rollup`'s cost per UTC day (kept by triggers on the rollup), so a
    budget's month or all-time spending reads a few hundred rows instead of tens of thousands
    of quarter hours while it holds the write lock. A later migration that recreates
    `usage_rollup` must create these triggers again.
    """
    for statement in (*_M007_SCHEMA, *_m007_daily()):
        db.execute(statement)


def _m007_daily() -> list[str]:
    """`usage_daily`, filled from the rollup, and the triggers that keep it equal to it."""
    add = (
        "INSERT INTO usage_daily (day, model, profile, cost_usd) "
        "VALUES (substr({row}.bucket, 1, 10), {row}.model, {row}.profile, {amount}) "
        "ON CONFLICT (day, model, profile) DO UPDATE SET cost_usd = cost_usd + excluded.cost_usd;"
    )
    return [
        "CREATE TABLE usage_daily (day TEXT NOT NULL, model TEXT NOT NULL, profile TEXT NOT NULL, "
        "cost_usd REAL NOT NULL DEFAULT 0, PRIMARY KEY (day, model, profile)) WITHOUT ROWID",
        "INSERT INTO usage_daily SELECT substr(bucket, 1, 10) AS day, model, profile, "
        "sum(cost_usd) FROM usage_rollup GROUP BY day, model, profile",
        "CREATE TRIGGER usage_daily_ai AFTER INSERT ON usage_rollup WHEN NEW.cost_usd != 0 "
        f"BEGIN {add.format(row='NEW', amount='NEW.cost_usd')} END",
        "CREATE TRIGGER usage_daily_au AFTER UPDATE OF cost_usd ON usage_rollup "
        "WHEN NEW.cost_usd != OLD.cost_usd "
        f"BEGIN {add.format(row='NEW', amount='NEW.cost_usd - OLD.cost_usd')} END",
        "CREATE TRIGGER usage_daily_ad AFTER DELETE ON usage_rollup WHEN OLD.cost_usd != 0 "
        f"BEGIN {add.format(row='OLD', amount='-OLD.cost_usd')} END",
    ]


_M007_SCHEMA = (
    """CREATE TABLE budgets (
        name TEXT PRIMARY KEY,
        scope_kind TEXT NOT NULL CHECK (scope_kind IN ('all', 'profile', 'model')),
        scope_value TEXT NOT NULL DEFAULT '',
        period TEXT NOT NULL CHECK (period IN ('day', 'week', 'month', 'all')),
        limit_usd REAL NOT NULL CHECK (limit_usd > 0),
        thresholds_json TEXT NOT NULL DEFAULT '[50, 80, 100]',
        webhook_env TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL)""",
    """CREATE TABLE budget_reservations (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        profile TEXT NOT NULL,
        model TEXT NOT NULL,
        amount_usd REAL NOT NULL CHECK (amount_usd >= 0))""",
    "CREATE INDEX idx_budget_reservations_expires ON budget_reservations (expires_at)",
    """CREATE TABLE monitor_rules (
        name TEXT PRIMARY KEY,
        metric TEXT NOT NULL CHECK (metric IN ('error_rate', 'p95_latency', 'daily_cost')),
        model_glob TEXT NOT NULL DEFAULT '*',
        factor REAL NOT NULL CHECK (factor > 0),
        floor REAL NOT NULL DEFAULT 0 CHECK (floor >= 0),
        min_calls INTEGER NOT NULL DEFAULT 20 CHECK (min_calls >= 1),
        webhook_env TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL)""",
    """CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('budget', 'monitor')),
        rule TEXT NOT NULL,
        scope TEXT NOT NULL,
        period TEXT NOT NULL,
        threshold REAL NOT NULL,
        figure REAL NOT NULL,
        reference REAL,
        message TEXT NOT NULL,
        webhook_env TEXT,
        delivery TEXT NOT NULL DEFAULT 'none'
            CHECK (delivery IN ('none', 'pending', 'delivered', 'failed')),
        UNIQUE (kind, rule, scope, period, threshold))""",
    "CREATE INDEX idx_alerts_created ON alerts (created_at)",
    "CREATE INDEX idx_alerts_undelivered ON alerts (id) WHERE delivery IN ('pending', 'failed')",
    """CREATE TABLE alert_deliveries (
        id INTEGER PRIMARY KEY,
        alert_id INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
        attempt INTEGER NOT NULL,
        at TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed')),
        http_status INTEGER,
        error TEXT,
        duration_ms REAL)""",
    "CREATE INDEX idx_alert_deliveries_alert ON alert_deliveries (alert_id)",
)


_M008_FTS_COLUMNS = "prompt_text, response_text"


def _m008_fts(action: str, row: str) -> str:
    """An FTS5 statement adding (`index`) or removing (`delete`) one call's text, for an
    external-content index: a removal must give the values that were indexed."""
    if action == "delete":
        return (
            f"INSERT INTO calls_fts (calls_fts, rowid, {_M008_FTS_COLUMNS}) "
            f"SELECT 'delete', {row}.rowid, {row}.prompt_text, {row}.response_text"
        )
    return (
        f"INSERT INTO calls_fts (rowid, {_M008_FTS_COLUMNS}) "
        f"SELECT {row}.rowid, {row}.prompt_text, {row}.response_text"
    )


def _m008_sent(row: str) -> str:
    """SQL true for a call sent to a model, false for a cache hit."""
    return f"coalesce({row}.cache_hit, 0) = 0"


@migrations()
def m008_search_skips_cache_hits(db: sqlite_utils.Database) -> None:
    """The full-text index of the log holds the calls sent to a model, not cache hits.

    A cache hit's row replays the call that filled its entry: the same prompt and answer.
    Indexing that text again for every hit was most of what logging a hit cost (an
    evaluation re-run answered from the cache logs thousands at once), and a search listed
    each replay of a call as well as the call. The three triggers sqlite-utils made (m001)
    are made again to skip hits: insert and delete watch the row's `cache_hit`, and an
    update removes the old text only if it was indexed and adds the new one only for a call
    sent (a row logged `pending`, indexed, then finished as a hit would be taken out).
    Hits already in the index are removed from it with the values they were indexed with
    (the triggers kept the index equal to the rows): one pass over the log on the first
    open after the upgrade. The Usage pane's and `tunedeck log`'s
    search therefore lists the calls sent to a model; the unfiltered log still lists hits.

    The index no longer covers every row, so it must not be filled again with FTS5's
    `rebuild` (sqlite-utils' `rebuild-fts`): that indexes hits too, and deleting such a hit
    would then leave its text in the index. A later `transform()` of `calls` drops these
    triggers: such a migration must create them again.
    """
    for name in ("calls_ai", "calls_ad", "calls_au"):
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    db.execute(f"{_m008_fts('delete', 'calls')} FROM calls WHERE NOT {_m008_sent('calls')}")
    db.execute(
        f"CREATE TRIGGER calls_ai AFTER INSERT ON calls WHEN {_m008_sent('NEW')} "
        f"BEGIN {_m008_fts('index', 'NEW')}; END"
    )
    db.execute(
        f"CREATE TRIGGER calls_ad AFTER DELETE ON calls WHEN {_m008_sent('OLD')} "
        f"BEGIN {_m008_fts('delete', 'OLD')}; END"
    )
    db.execute(
        f"CREATE TRIGGER calls_au AFTER UPDATE OF {_M008_FTS_COLUMNS}, cache_hit ON calls "
        f"BEGIN {_m008_fts('delete', 'OLD')} WHERE {_m008_sent('OLD')}; "
        f"{_m008_fts('index', 'NEW')} WHERE {_m008_sent('NEW')}; END"
    )


@migrations()
def m009_calls_without_request_key_index(db: sqlite_utils.Database) -> None:
    """The log's index on `request_key` (m001) is dropped: no query reads it, and it made
    each row dearer to write.

    A request key is a hash, so each new row's entry went to a random page of that index,
    and every such page went to the write-ahead log at the commit: a cached re-run of 2,000
    cases (a log of 2,000-10,000 rows) spent ~90 ms committing its hits with the index and
    ~45 ms without, ~300 and ~230 ms logging them all in (tests/bench/bench_eval_runner.py
    with the commits timed). The cache finds its entries by their own primary key, not
    through the log.
    """
    db.execute("DROP INDEX IF EXISTS idx_calls_request_key")


@migrations()
def m010_calls_without_usage_index(db: sqlite_utils.Database) -> None:
    """The log's nine-column `idx_calls_usage` (m001) is dropped: no query needs it since the
    usage rollup (m003).

    Totals are summed from `usage_rollup`; the log is read by time only for the quarter hour
    at the start of a period (`storage.usage`), the hit rate of a day (`CallLog.hit_rate`),
    and a monitor's latencies (through `idx_calls_model_started_at`): `idx_calls_started_at`
    finds those rows. The index made each logged call dearer to write: inserting the rows of
    2,000 cache hits in one statement took ~123 ms with it and ~70 ms without (on a copy of
    the database of tests/bench/bench_eval_runner.py); inside that bench's cached re-runs,
    where the log is small and its pages cached, logging the hits went from ~110-119 to
    ~105-110 ms.
    """
    db.execute("DROP INDEX IF EXISTS idx_calls_usage")


@migrations()
def m011_eval_runs_running_time(db: sqlite_utils.Database) -> None:
    """A resumed run's running time: `resumed_at` (when it was last resumed; NULL if never)
    and `earlier_ms` (how long it ran before that, in its earlier sessions). Its time from
    start to end would count the hours it lay interrupted; these let `completed in` count only
    the time it ran (`EvalRun.running_ms`)."""
    db.execute("ALTER TABLE eval_runs ADD COLUMN resumed_at TEXT")
    db.execute("ALTER TABLE eval_runs ADD COLUMN earlier_ms REAL NOT NULL DEFAULT 0")


@migrations()
def m012_eval_judge_cost(db: sqlite_utils.Database) -> None:
    """The `llm-rubric` judge's share of what a case and a run cost (`judge_cost_usd`).

    A case's `cost_usd` counts its answer and its judge calls (what the run spent); its
    `judge_cost_usd` is the judge calls' part: 0 when the verdicts came from the cache, NULL
    when no judge was asked (or its price is unknown). A comparison of two runs counts the
    answers alone, so a judge asked in one run and read from the cache in the other does not
    make a model look dearer or cheaper. Results recorded before this migration have NULL:
    their cost counts their judge too.
    """
    db.execute("ALTER TABLE eval_results ADD COLUMN judge_cost_usd REAL")
    db.execute("ALTER TABLE eval_runs ADD COLUMN judge_cost_usd REAL")


@migrations()
def m013_calls_pid(db: sqlite_utils.Database) -> None:
    """The process that logged a call (`pid`), so that a call left `pending` by a process
    that died (killed, the machine stopped) can be told from one still in flight and closed
    (`CallLog.cancel_orphaned`). Calls logged before have NULL: they stay as they are.

    A partial index holds the pending calls alone (a few at any time): finding their
    processes reads it, not the log.
    """
    db.execute("ALTER TABLE calls ADD COLUMN pid INTEGER")
    db.execute("CREATE INDEX idx_calls_pending ON calls (pid) WHERE status = 'pending'")
