"""The wrk load generator, checking every answer it counts.

wrk alone counts a request as served whatever came back: a 429 refusal or a GraphQL
error is as fast as an answer, often faster. So the Lua script here looks at each
response (status and body) and the run says what was wrong, if anything; a round with
any bad answer is a failed round, never a figure.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PLACEHOLDER = "@@VALUE@@"
"""Where a rotating body's varying value goes (see ``Rotation``)."""

# Runs once per thread (init, response) and once in the main state (setup, done).
# ``done`` reports one JSON line per fact, so nothing needs scraping from wrk's text;
# wrk's own "Non-2xx or 3xx responses" line is read too, as a cross-check.
_CHECKS = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[{body}]==]

local threads = {{}}
setup = function(thread) table.insert(threads, thread) end

checked = 0
statuses = {{}}
codes = {{}}
no_data = 0
bad_answers = 0
sampled = false

response = function(status, headers, body)
  checked = checked + 1
  local bad = false
  if status < 200 or status > 299 then
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
    bad = true
  end
  if string.find(body, '"errors"', 1, true) then
    local code = string.match(body, '"code"%s*:%s*"([%w_]+)"') or "(no code)"
    codes[code] = (codes[code] or 0) + 1
    bad = true
  elseif not bad and not string.find(body, '"data"', 1, true) then
    no_data = no_data + 1
    bad = true
  end
  if bad then bad_answers = bad_answers + 1 end
  if bad and not sampled then
    sampled = true
    local f = io.open([==[{sample}]==], "w")
    f:write(tostring(status), "\\n", string.sub(body, 1, 2000))
    f:close()
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {{"requests": %d, "duration_us": %d, "socket_errors": %d, "status_errors": %d, '
    .. '"p50_us": %d, "p90_us": %d, "p99_us": %d}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
  for _, t in ipairs(threads) do
    io.write(string.format('WRKCHECK {{"checked": %d, "bad": %d, "no_data": %d}}\\n',
      t:get("checked"), t:get("bad_answers"), t:get("no_data")))
    for k, v in pairs(t:get("statuses")) do
      io.write(string.format('WRKSTATUS {{"status": "%s", "count": %d}}\\n', k, v))
    end
    for k, v in pairs(t:get("codes")) do
      io.write(string.format('WRKCODE {{"code": "%s", "count": %d}}\\n', k, v))
    end
  end
end
"""

# Every request a different body: line ``index`` of a file, spliced into a template.
_ROTATION = """
local values = {{}}
init = function(args)
  for line in io.lines([==[{values}]==]) do values[#values + 1] = line end
  index = tonumber(args[1])
end

request = function()
  local value = values[(index % #values) + 1]
  index = index + 1
  return wrk.format(nil, nil, nil, [==[{prefix}]==] .. value .. [==[{suffix}]==])
end
"""


@dataclass(frozen=True, slots=True)
class Rotation:
    """Bodies that differ in every request: ``template`` with ``PLACEHOLDER`` replaced
    by one line of ``values`` after another, from ``start`` on (wrapping at the end)."""

    template: str
    values: Path
    count: int
    start: int = 0


@dataclass(frozen=True, slots=True)
class Round:
    """What wrk measured in one timed round against one server, and what was wrong."""

    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    socket_errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    """Non-2xx answers by status, as the Lua check counted them."""
    codes: dict[str, int] = field(default_factory=dict)
    """Answers carrying GraphQL ``errors``, by ``extensions.code``."""
    no_data: int = 0
    """2xx answers with neither ``data`` nor ``errors``."""
    bad_answers: int = 0
    """Answers with any of the faults above, each counted once."""
    unchecked: int = 0
    """Requests wrk counted whose answer the Lua check never saw."""
    wrk_non2xx: int = 0
    """wrk's own count of answers with status 400 and above."""
    sample: str = ""
    """The status line and start of the first bad answer."""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def bad(self) -> int:
        """Answers that make this round a failure (0 for a good round)."""
        # wrk's own count (status >= 400) should never exceed the Lua one; trust the larger.
        return max(self.bad_answers, self.wrk_non2xx) + self.socket_errors + self.unchecked

    def problems(self) -> str:
        """What was wrong, in one line; empty for a good round."""
        parts = []
        if self.statuses:
            parts.append("statuses " + _counts(self.statuses))
        if self.wrk_non2xx > sum(self.statuses.values()):
            parts.append(f"wrk counted {self.wrk_non2xx:,} non-2xx answers")
        if self.codes:
            parts.append("GraphQL errors " + _counts(self.codes))
        if self.no_data:
            parts.append(f"{self.no_data} answers without data")
        if self.socket_errors:
            parts.append(f"{self.socket_errors} socket errors (connect/read/write/timeout)")
        if self.unchecked:
            parts.append(f"{self.unchecked} answers not checked")
        return "; ".join(parts)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} ×{value:,}" for key, value in sorted(counts.items()))


class Wrk:
    """wrk with one thread and a fixed number of keep-alive connections (closed loop)."""

    def __init__(self, connections: int, work_dir: Path) -> None:
        binary = shutil.which("wrk")
        if binary is None:
            raise RuntimeError("wrk is not installed; install it with: make wrk")
        self.binary = binary
        self.connections = connections
        self.work_dir = work_dir
        work_dir.mkdir(parents=True, exist_ok=True)

    def version(self) -> str:
        result = subprocess.run([self.binary, "-v"], capture_output=True, text=True, check=False)
        return (result.stdout + result.stderr).splitlines()[0].split(" Copyright")[0].strip()

    def run(self, url: str, seconds: float, body: bytes | Rotation, name: str) -> Round:
        """Loads ``url`` for ``seconds`` with ``body`` (the same each time, or rotating)."""
        sample = self.work_dir / f"{name}.bad-answer.txt"
        sample.unlink(missing_ok=True)
        script = self.work_dir / f"{name}.lua"
        script.write_text(_script(body, sample))
        command = [self.binary, "-t1", f"-c{self.connections}", f"-d{seconds:g}s"]
        command += ["--timeout", "10s", "-s", str(script), url]
        if isinstance(body, Rotation):
            command += ["--", str(body.start)]
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=seconds + 60
        )
        lines = _tagged(result.stdout)
        if result.returncode != 0 or "WRK" not in lines:
            raise RuntimeError(f"wrk failed ({result.returncode}): {result.stdout}{result.stderr}")
        raw = lines["WRK"][0]
        checked = sum(int(c["checked"]) for c in lines.get("WRKCHECK", []))
        non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", result.stdout)
        return Round(
            requests=int(raw["requests"]),
            seconds=int(raw["duration_us"]) / 1e6,
            p50_ms=int(raw["p50_us"]) / 1000,
            p90_ms=int(raw["p90_us"]) / 1000,
            p99_ms=int(raw["p99_us"]) / 1000,
            socket_errors=int(raw["socket_errors"]),
            statuses={str(s["status"]): int(s["count"]) for s in lines.get("WRKSTATUS", [])},
            codes={str(c["code"]): int(c["count"]) for c in lines.get("WRKCODE", [])},
            no_data=sum(int(c["no_data"]) for c in lines.get("WRKCHECK", [])),
            bad_answers=sum(int(c["bad"]) for c in lines.get("WRKCHECK", [])),
            unchecked=max(int(raw["requests"]) - checked, 0),
            wrk_non2xx=max(int(raw["status_errors"]), int(non2xx[1]) if non2xx else 0),
            sample=sample.read_text(errors="replace") if sample.exists() else "",
        )


def _script(body: bytes | Rotation, sample: Path) -> str:
    fixed = body if isinstance(body, bytes) else b""
    text = _CHECKS.format(body=_quotable(fixed.decode()), sample=_quotable(str(sample)))
    if isinstance(body, Rotation):
        prefix, found, suffix = body.template.partition(PLACEHOLDER)
        if not found:
            raise ValueError(f"a rotating body's template needs {PLACEHOLDER}")
        text += _ROTATION.format(
            values=_quotable(str(body.values)), prefix=_quotable(prefix), suffix=_quotable(suffix)
        )
    return text


def _quotable(text: str) -> str:
    if "]==]" in text or "\n" in text:
        raise ValueError(f"cannot quote {text[:40]!r}... in the wrk script")
    return text


def _tagged(stdout: str) -> dict[str, list[dict[str, str | int]]]:
    found: dict[str, list[dict[str, str | int]]] = {}
    for match in re.finditer(r"^(WRK[A-Z]*) (\{.*\})$", stdout, re.MULTILINE):
        found.setdefault(match[1], []).append(json.loads(match[2]))
    return found


@dataclass(frozen=True, slots=True)
class Summary:
    """The rounds of one case, condensed: medians resist one noisy round."""

    rps: float
    rps_low: float
    rps_high: float
    p50_ms: float
    p99_ms: float
    requests: int

    @classmethod
    def of(cls, rounds: Sequence[Round]) -> Summary:
        return cls(
            rps=statistics.median(r.rps for r in rounds),
            rps_low=min(r.rps for r in rounds),
            rps_high=max(r.rps for r in rounds),
            p50_ms=statistics.median(r.p50_ms for r in rounds),
            p99_ms=statistics.median(r.p99_ms for r in rounds),
            requests=sum(r.requests for r in rounds),
        )
