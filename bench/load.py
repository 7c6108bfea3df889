"""wrk runs: req/s, p50 and p99, and a check of every answer (status 200, no ``errors``, the expected path header).

The check runs in wrk's Lua ``response`` hook, for the raw baseline and the peer as for the app, so each side pays
the same client cost; the counts come back on one line that ``done`` writes.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PATH_HEADER = "x-portico-path"
ABSENT = ""  # the value meaning "answers carry no path header"
TIMEOUT = 10  # seconds: a slower answer counts as a socket error (wrk's default, 2 s, is near c32's p99 here)

CHECK = r"""
threads = {}
next_offset = 0
function setup(thread)
  thread:set("offset", next_offset)
  next_offset = next_offset + 1
  table.insert(threads, thread)
end
function init(args)
  i = offset
  answers, wrong_path, failed = 0, 0, 0
end
function response(status, headers, body)
  answers = answers + 1
  if check_path and headers[path_header] ~= expected_path then wrong_path = wrong_path + 1 end
  if status ~= 200 or string.find(body, '"errors"', 1, true)
     or (must_contain and not string.find(body, must_contain, 1, true)) then
    failed = failed + 1
  end
end
function done(summary, latency, requests)
  local a, w, f = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("answers"); w = w + t:get("wrong_path"); f = f + t:get("failed")
  end
  io.write(string.format("checked answers=%d wrong_path=%d failed=%d\n", a, w, f))
end
"""


@dataclass(frozen=True)
class Load:
    """What wrk sends: GET (no bodies), one POST body, or POST bodies taken in turn (each sent once, if enough)."""

    url: str
    bodies: tuple[str, ...] = ()
    token: str | None = None
    path: str | None = None  # every answer's path header must be this (ABSENT: no header); None: not checked
    must_contain: str | None = None  # e.g. a mutation's success __typename


@dataclass(frozen=True)
class Result:
    label: str
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    answers: int
    wrong_path: int  # answers whose path header differed from the probe's
    failed: int  # answers that were not a 200 with data
    socket_errors: int  # connect, read and write errors, and requests without an answer within TIMEOUT

    @property
    def valid(self) -> bool:
        return self.answers > 0 and self.wrong_path == 0 and self.failed == 0 and self.socket_errors == 0


def lua_string(value: str) -> str:
    """A Lua (5.1, LuaJIT) string literal: printable ASCII as is, every other byte as a decimal escape."""
    return (
        '"'
        + "".join(
            chr(byte) if 32 <= byte < 127 and byte not in (34, 92) else f"\\{byte:03d}" for byte in value.encode()
        )
        + '"'
    )


def script(load: Load, threads: int) -> str:
    lines = []
    if load.token:
        lines.append(f'wrk.headers["Authorization"] = {lua_string("Bearer " + load.token)}')
    if load.bodies:
        lines += ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "application/json"']
    if len(load.bodies) == 1:
        lines.append(f"wrk.body = {lua_string(load.bodies[0])}")
    elif load.bodies:  # each wrk thread walks its own stride of the list, so no body is sent twice
        lines.append("bodies = {" + ",".join(lua_string(b) for b in load.bodies) + "}")
        lines.append(
            f"function request() i = i + {threads}; return wrk.format(nil, nil, nil, bodies[(i % #bodies) + 1]) end"
        )
    lines.append(f"path_header = {lua_string(PATH_HEADER)}")
    lines.append(f"check_path = {'true' if load.path is not None else 'false'}")
    lines.append(f"expected_path = {lua_string(load.path) if load.path else 'nil'}")
    lines.append(f"must_contain = {lua_string(load.must_contain) if load.must_contain else 'nil'}")
    return "\n".join(lines) + "\n" + CHECK


def wrk(label: str, load: Load, concurrency: int, duration: int) -> Result:
    """Load ``load.url`` for ``duration`` seconds with ``concurrency`` connections."""
    threads = 1 if concurrency == 1 else 2
    path = Path(tempfile.mkstemp(suffix=".lua")[1])
    path.write_text(script(load, threads))
    try:
        command = ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{duration}s", "--latency"]
        command += ["--timeout", f"{TIMEOUT}s"]
        output = subprocess.run(
            [*command, "-s", str(path), load.url], capture_output=True, text=True, check=True
        ).stdout
    finally:
        path.unlink()
    found = re.search(r"checked answers=(\d+) wrong_path=(\d+) failed=(\d+)", output)
    if found is None:
        raise SystemExit(f"{label}: wrk printed no check line\n{output}")
    answers, wrong_path, failed = (int(value) for value in found.groups())
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    socket_errors = sum(int(value) for value in socket.groups()) if socket else 0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50, p99 = _percentile(output, "50"), _percentile(output, "99")
    return Result(label, concurrency, rps, p50, p99, answers, wrong_path, failed, socket_errors)


def _percentile(output: str, which: str) -> float:
    value, unit = re.search(rf"\s{which}(?:\.000)?%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
