"""What a reports_page run found, and its RESULTS.md section: figures for a clean run,
only the failures for one with any bad answer."""

from __future__ import annotations

import re
import statistics
import textwrap
from dataclasses import dataclass, field

from bench.wrk import Round, Summary
from hub.settings import Limits, Settings

SHIPPED_RATE_LIMIT = Limits().requests_per_second

CASES = ["static", "memory", "hot", "cold"]
"""In the order of the table; each round starts one further along."""

LABELS = {
    "static": "(a) static Starlette, same bytes",
    "memory": "(b) plain strawberry, from memory",
    "hot": "(c) hub hot: the same query each time",
    "cold": "(d) hub cold: a different page each time",
}

SHORT = {"static": "(a) static", "memory": "(b) strawberry", "hot": "(c) hot", "cold": "(d) cold"}

HOT_TARGET = 0.5
"""Issue 11: the hub serves a repeated query at least this share of (a)'s rate."""
COLD_TARGET = 1.0
"""Issue 11: the hub serves never-repeated pages at least this share of (b)'s rate."""


@dataclass(frozen=True, slots=True)
class Plan:
    """How big and how long a run is."""

    name: str
    reports: int
    rounds: int
    seconds: float
    warmup: float
    connections: int


@dataclass(frozen=True, slots=True)
class Failure:
    """Something that makes the run's figures meaningless, and a sample answer."""

    phase: str
    case: str
    problem: str
    sample: str


@dataclass(slots=True)
class Outcome:
    """Everything measured and checked in one run."""

    rounds: dict[str, list[Round]] = field(default_factory=lambda: {c: [] for c in CASES})
    failures: list[Failure] = field(default_factory=list)
    same_bytes: dict[str, bool] = field(default_factory=dict)
    wrk: str = ""
    cursors_used: int = 0
    """How many cold cursors wrk took, in-flight requests at each stop included."""
    hot_cache_hits: int = 0
    """Answers of the hot case the hub's response cache gave (its /metrics)."""


@dataclass(frozen=True, slots=True)
class HubConfig:
    """The hub under test, as its own ``Settings.from_env`` read the environment."""

    profile: str
    rate_limit: float
    burst: int
    pool: str
    max_page_size: int
    sync: str
    connectors: bool
    cache_mb: int
    reports: int
    cursors: int

    @classmethod
    def of(cls, settings: Settings, plan: Plan, cursors: int) -> HubConfig:
        return cls(
            profile=settings.profile.value,
            rate_limit=settings.limits.requests_per_second,
            burst=settings.limits.burst,
            pool=f"{settings.pool_min_size}–{settings.pool_max_size}",
            max_page_size=settings.limits.max_page_size,
            sync=settings.sync.value,
            connectors=settings.connectors,
            cache_mb=settings.cache_mb,
            reports=plan.reports,
            cursors=cursors,
        )

    def line(self) -> str:
        return (
            f"profile {self.profile}, rate limit {self.rate_limit:,.0f} req/s per client "
            f"(burst {self.burst:,}), pool {self.pool}, max page size {self.max_page_size}, "
            f"sync {self.sync}, connectors {'on' if self.connectors else 'off'}, "
            f"{self.reports:,} reports, {self.cache()}"
        )

    def cache(self) -> str:
        if not self.cache_mb:
            return "no response cache (SP4N_CACHE_MB=0)"
        return f"response cache of {self.cache_mb} MiB (SP4N_CACHE_MB={self.cache_mb}, as shipped)"

    def markdown(self) -> str:
        return f"""\
- **Hub under test** (read back through its own `Settings.from_env`): profile
  `{self.profile}`; rate limit {self.rate_limit:,.0f} req/s per client, burst
  {self.burst:,} (`SP4N_RATE_LIMIT={self.rate_limit:.0f}`; the hub ships with
  {SHIPPED_RATE_LIMIT:g}, which would refuse almost all of this load); database pool
  {self.pool} connections; max page size {self.max_page_size} (the query asks for 50);
  `SP4N_SYNC={self.sync}` and connectors {"on" if self.connectors else "off"}, so only
  the read path runs; {self.cache()};
  {self.reports:,} seeded reports in an embedded PostgreSQL (`durable=False`);
  one uvicorn worker."""


def section(
    plan: Plan,
    outcome: Outcome,
    summaries: dict[str, Summary],
    config: HubConfig,
    facts: dict[str, str],
    query: str,
    cold_query: str,
) -> str:
    """The RESULTS.md section of a run in which every answer was good."""
    return _flow(_section(plan, outcome, summaries, config, facts, query, cold_query))


def _section(
    plan: Plan,
    outcome: Outcome,
    summaries: dict[str, Summary],
    config: HubConfig,
    facts: dict[str, str],
    query: str,
    cold_query: str,
) -> str:
    rows = "\n".join(
        f"| {LABELS[case]} | {s.rps:,.0f} | {s.rps_low:,.0f}–{s.rps_high:,.0f} | "
        f"{s.p50_ms:.1f} | {s.p99_ms:.1f} | {s.requests:,} | 0 |"
        for case, s in summaries.items()
    )
    answers = sum(s.requests for s in summaries.values())
    repeated = (
        "no cursor was used twice"
        if outcome.cursors_used <= config.cursors
        else "the list wrapped around, so some pages were asked for more than once"
    )
    ratios = "\n".join(
        _ratio_row(outcome, summaries, case, base, target)
        for case, base, target in (
            ("hot", "static", HOT_TARGET),
            ("cold", "memory", COLD_TARGET),
            ("hot", "memory", None),
            ("cold", "static", None),
            ("memory", "static", None),
        )
    )
    hot, cold, memory, static = (summaries[c] for c in ("hot", "cold", "memory", "static"))
    return f"""\
## {facts["title"]}
{_caveat(plan)}
`{facts["command"]}`, {facts["date"]}.
Every answer of every round was checked and good; the figures below are all from this one
run.

{config.markdown()}
{_setup(plan, outcome, facts)}
- **Checks**: wrk's Lua `response` hook saw each of the {answers:,} measured answers
  (and the warm-ups'): all 2xx, none with `"errors"`, all with `"data"`; wrk's own
  non-2xx count was 0 in every round. Before the rounds the hub, (a) and (b) answered the same
  JSON (byte-identical to the hub's: (a) {outcome.same_bytes["static"]}, (b)
  {outcome.same_bytes["memory"]}); before and after, httpx fetched 20 cold pages each,
  every one a 200 with 50 reports, no errors, no two alike; after, the hot answer was
  unchanged. Cold: {outcome.cursors_used:,} of {config.cursors:,} shuffled cursors taken,
  {repeated}; the hub's `/metrics` counted no cache hit during any cold run (a hit
  there fails the run) and {outcome.hot_cache_hits:,} during the hot runs.

```graphql
# (a), (b), (c)
{query}
# (d), with {{"after": <cursor>}}
{cold_query}
```

| case | req/s | req/s range | p50 ms | p99 ms | requests | bad answers |
|---|---:|---:|---:|---:|---:|---:|
{rows}

| ratio of req/s | of the medians | per round (same round) | target | |
|---|---:|---:|---:|---|
{ratios}

Reading: (c) asks the same page again and again; with the response cache on it is
answered from the cache after its first miss (p50 {hot.p50_ms:.1f} ms, p99
{hot.p99_ms:.1f} ms), without it executed in full. (d) never repeats a page, so every
request misses the cache and executes: the hub's own cost per page beyond plain
strawberry's (its PostgreSQL query and all it adds around strawberry; not broken down
here), p50 {cold.p50_ms:.1f} ms against {memory.p50_ms:.1f} ms for (b), p99
{cold.p99_ms:.1f} ms against {memory.p99_ms:.1f} ms. Plain strawberry from memory, with
no database at all, reaches {memory.rps / static.rps:.3f} × (a).
"""


def _ratio_row(
    outcome: Outcome,
    summaries: dict[str, Summary],
    case: str,
    base: str,
    target: float | None,
) -> str:
    ratio = summaries[case].rps / summaries[base].rps
    per_round = [
        mine.rps / theirs.rps
        for mine, theirs in zip(outcome.rounds[case], outcome.rounds[base], strict=True)
    ]
    spread = (
        f"{min(per_round):.3f}–{max(per_round):.3f} (median {statistics.median(per_round):.3f})"
    )
    if target is None:
        goal, verdict = "", "for reference"
    else:
        goal, verdict = f"≥ {target}", "**met**" if ratio >= target else "**missed**"
    return f"| {SHORT[case]} / {SHORT[base]} | **{ratio:.3f}** | {spread} | {goal} | {verdict} |"


def failed_section(
    plan: Plan,
    outcome: Outcome,
    config: HubConfig,
    facts: dict[str, str],
    query: str,
    cold_query: str,
) -> str:
    """The RESULTS.md section of a run with any bad answer: what went wrong, no figures."""
    return _flow(_failed_section(plan, outcome, config, facts, query, cold_query))


def _failed_section(
    plan: Plan,
    outcome: Outcome,
    config: HubConfig,
    facts: dict[str, str],
    query: str,
    cold_query: str,
) -> str:
    rows = "\n".join(f"| {f.phase} | {LABELS[f.case]} | {f.problem} |" for f in outcome.failures)
    shown: set[tuple[str, str]] = set()
    samples: list[str] = []
    for failure in outcome.failures:
        if failure.sample and (failure.phase, failure.case) not in shown and len(samples) < 4:
            shown.add((failure.phase, failure.case))
            status, _, body = failure.sample.partition("\n")
            heading = f"{failure.phase}, {LABELS[failure.case]}: status {status}"
            samples.append(f"{heading}\n\n```\n{body[:600]}\n```")
    return f"""\
## {facts["title"]}: FAILED
{_caveat(plan)}
`{facts["command"]}`, {facts["date"]}.
**This run failed: some answers were refusals or errors, so it reports no figures and no
target as met or missed.** Requests answered with a refusal are not throughput.

| phase | case | what was wrong |
|---|---|---|
{rows}

First bad answer of each:

{(chr(10) * 2).join(samples) or "(no sample)"}

{config.markdown()}
{_setup(plan, outcome, facts)}

```graphql
{query}
{cold_query}
```
"""


def _caveat(plan: Plan) -> str:
    if plan.name != "quick":
        return ""
    return (
        f"\n_Quick mode: {plan.reports:,} reports, not the issue's 100,000, and short rounds; "
        "a smoke test of the benchmark. Quote the full mode._\n"
    )


def _setup(plan: Plan, outcome: Outcome, facts: dict[str, str]) -> str:
    return f"""\
- **Machine**: {facts["nproc"]} CPUs ({facts["cpu"]}), Python {facts["python"]};
  {facts["packages"]}. **Shared**: other sessions ran tests on it meanwhile; load average
  before the run {facts["load before"]}, after {facts["load after"]}. The rotating rounds
  spread that noise over all four cases; the per-round ratios show how much it moved.
- **Load generator**: {outcome.wrk or "wrk"}, 1 thread, {plan.connections} keep-alive
  connections (closed loop), one `POST /graphql` JSON body per request; for (d) a Lua
  `request` function builds each body from the next cursor. A {plan.warmup:g} s warm-up
  per case, then {plan.rounds} rounds of {plan.seconds:g} s per case, the order rotating
  each round. Shown: medians over rounds of req/s, p50 and p99, and the range of req/s.
- **Servers**: one uvicorn process each, same options (`{facts["uvicorn options"]}`), on
  127.0.0.1; PostgreSQL, the servers and wrk share the same 2 CPUs. (c) and (d) load the
  same hub process.
  - (a): a Starlette route that reads the body and returns the hub's recorded bytes.
  - (b): strawberry with its defaults (no parser or validation cache; the hub has both),
    a schema of its own with the same fields, sync resolvers over the same 50 reports.
  - hub: `create_app(Settings.from_env(...))`, database {facts["seeded"]}."""


def _flow(markdown: str, width: int = 92) -> str:
    """Rewraps paragraphs and list items, whose interpolated figures left them ragged;
    headings, tables and code blocks stay as they are."""
    out: list[str] = []
    words: list[str] = []
    prefix = ""
    code = False

    def flush() -> None:
        if words:
            indent = " " * len(prefix)
            text = " ".join(words)
            out.append(
                textwrap.fill(
                    text,
                    width,
                    initial_indent=prefix,
                    subsequent_indent=indent,
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
            words.clear()

    for line in markdown.splitlines():
        item = re.match(r"^(\s*- )(.*)$", line)
        if line.startswith("```") or code or not line.strip() or line.startswith(("|", "#")):
            flush()
            code ^= line.startswith("```")
            out.append(line)
        elif item:
            flush()
            prefix = item[1]
            words.append(item[2])
        else:
            if not words:
                prefix = ""
            words.append(line.strip())
    flush()
    return "\n".join(out) + "\n"
