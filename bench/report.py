"""The benchmark's output: one table (req/s, p50, p99, the path, the ratio to the row's own baseline) and the
targets, each `met`, `missed` or `invalid` (a figure whose answers were not all good data on the probed path),
ending with one machine-readable line per target."""

from __future__ import annotations

from dataclasses import dataclass

from bench.load import Result


@dataclass(frozen=True)
class Target:
    """``measure``: ``raw`` (req/s ratio to the operation's raw baseline, at least), ``postgraphile`` (req/s ratio to
    the peer's Q1, at least), ``rps`` (at least), ``p99`` (milliseconds, at most)."""

    measure: str
    value: float
    concurrency: int

    def describe(self) -> str:
        return {
            "raw": f">= {self.value:g} x raw",
            "postgraphile": f">= {self.value:g} x postgraphile",
            "rps": f">= {self.value:g} req/s",
            "p99": f"p99 <= {self.value:g} ms",
        }[self.measure]


@dataclass(frozen=True)
class Row:
    label: str  # "Q1", "raw Q1", "postgraphile Q1"
    title: str
    result: Result
    path: str  # planned | executed | compiled for the app's rows; "" for the baselines
    baseline: Result | None = None  # the raw baseline measured at the same level
    targets: tuple[Target, ...] = ()


@dataclass(frozen=True)
class Verdict:
    row: Row
    target: Target
    value: float
    status: str  # met | missed | invalid

    def line(self) -> str:
        name = {"raw": "ratio_to_raw", "postgraphile": "ratio_to_postgraphile", "rps": "rps", "p99": "p99_ms"}
        value = f"{self.value:.2f}" if self.target.measure != "rps" else f"{self.value:.0f}"
        return (
            f"{self.row.label} c{self.target.concurrency} {name[self.target.measure]}={value} "
            f"target={self.target.value:g} {self.status} path={self.row.path}"
        )


def judge(rows: list[Row], peer: dict[int, Result]) -> list[Verdict]:
    verdicts = []
    for row in rows:
        for target in row.targets:
            if target.concurrency != row.result.concurrency:
                continue
            valid = row.result.valid
            if target.measure == "raw":
                assert row.baseline is not None
                value = row.result.rps / row.baseline.rps
                valid = valid and row.baseline.valid
                met = value >= target.value
            elif target.measure == "postgraphile":
                other = peer.get(target.concurrency)
                if other is None:
                    continue
                value = row.result.rps / other.rps
                valid = valid and other.valid
                met = value >= target.value
            elif target.measure == "rps":
                value, met = row.result.rps, row.result.rps >= target.value
            else:
                value, met = row.result.p99_ms, row.result.p99_ms <= target.value
            verdicts.append(Verdict(row, target, value, "invalid" if not valid else "met" if met else "missed"))
    return verdicts


def _check(result: Result) -> str:
    if result.valid:
        return ""
    return (
        f"  INVALID: of {result.answers} answers, {result.failed} not data, {result.wrong_path} on another path;"
        f" {result.socket_errors} socket errors or timeouts"
    )


def render(header: list[str], rows: list[Row], peer: dict[int, Result]) -> str:
    verdicts = judge(rows, peer)
    by_row: dict[int, list[Verdict]] = {}
    for verdict in verdicts:
        by_row.setdefault(id(verdict.row), []).append(verdict)
    out = [*header, ""]
    out.append(f"{'operation':<44}{'c':>3}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}  {'path':<9}{'ratio':<22}target")
    for row in rows:
        r = row.result
        ratio = f"{r.rps / row.baseline.rps:.2f} x raw" if row.baseline else ""
        if row.label == "Q1" and r.concurrency in peer:
            ratio += f", {r.rps / peer[r.concurrency].rps:.2f} x pg"
        targets = "; ".join(f"{v.target.describe()} {v.status}" for v in by_row.get(id(row), []))
        name = f"{row.label} {row.title}".strip()
        out.append(
            f"{name:<44}{r.concurrency:>3}{r.rps:>9.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}  {row.path or '-':<9}"
            f"{ratio:<22}{targets}{_check(r)}"
        )
    met = sum(v.status == "met" for v in verdicts)
    out += ["", f"targets: {met} of {len(verdicts)} met", *(v.line() for v in verdicts)]
    return "\n".join(out)
