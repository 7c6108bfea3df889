"""What ``make bench-fanout`` prints: each figure for Portico beside the graphql-ws reference's of the same run, the
targets met or missed, and one machine-readable line per target at the end (as ``make bench`` does)."""

from __future__ import annotations

from dataclasses import dataclass

from bench.fanout.measure import Fanout, Saas, median

ALL_DELIVERED_MS = {1000: 80.0, 5000: 400.0}  # all subscribers delivered within, milliseconds
CPU_PER_DELIVERY_US = 60.0
KIB_PER_CONNECTION = 30.0
CONNECT_SECONDS = {5000: 8.0}
SAAS_P99_MS = 50.0


@dataclass(frozen=True)
class Figure:
    name: str  # machine-readable: fanout_n1000_all_delivered_ms
    title: str
    portico: float
    reference: float | None
    target: float | None = None  # at most

    @property
    def status(self) -> str:
        if self.target is None:
            return ""
        if self.portico != self.portico or self.portico == float("inf"):
            return "invalid"
        return "met" if self.portico <= self.target else "missed"

    def row(self) -> str:
        ref = "" if self.reference is None else f"{self.reference:10.1f}"
        ratio = "" if not self.reference else f"{self.portico / self.reference:7.2f} x"
        target = "" if self.target is None else f"<= {self.target:g}: {self.status}"
        return f"{self.title:<54}{self.portico:10.1f}{ref:>12}{ratio:>10}   {target}"

    def line(self) -> str:
        ref = "" if self.reference is None else f" reference={self.reference:.1f}"
        return f"{self.name}={self.portico:.1f} target={self.target:g} {self.status}{ref}"


def all_delivered_ms(result: Fanout, instance: str) -> float:
    complete = [r.all_delivered for r in result.rounds.get(instance, []) if r.all_delivered is not None]
    incomplete = len(result.rounds.get(instance, [])) - len(complete)
    return median(complete) * 1000 if complete and not incomplete else float("inf")


def cpu_per_delivery_us(result: Fanout) -> float:
    rounds = result.rounds.get("cross") or result.rounds["same"]
    return median([r.server_cpu / max(1, len(r.latencies)) for r in rounds]) * 1e6


def fanout_figures(portico: Fanout, reference: Fanout) -> list[Figure]:
    n = portico.n
    figures = [
        Figure(
            f"fanout_n{n}_all_delivered_ms",
            f"N={n:,}: all delivered, mutation on the same process (ms)",
            all_delivered_ms(portico, "same"),
            all_delivered_ms(reference, "same"),
            ALL_DELIVERED_MS.get(n),
        )
    ]
    if "cross" in portico.rounds:
        title = f"N={n:,}: all delivered, mutation on another process (ms)"
        figures.append(Figure(f"fanout_n{n}_cross_all_delivered_ms", title, all_delivered_ms(portico, "cross"), None))
    if n < 100:  # below that, a process's own noise dominates memory and CPU per delivery
        return figures
    figures += [
        Figure(
            f"fanout_n{n}_cpu_per_delivery_us",
            f"N={n:,}: server CPU per delivery (us)",
            cpu_per_delivery_us(portico),
            cpu_per_delivery_us(reference),
            CPU_PER_DELIVERY_US,
        ),
        Figure(
            f"fanout_n{n}_kib_per_connection",
            f"N={n:,}: memory per idle subscribed connection (KiB)",
            portico.bytes_per_connection / 1024,
            reference.bytes_per_connection / 1024,
            KIB_PER_CONNECTION,
        ),
        Figure(
            f"fanout_n{n}_connect_s",
            f"N={n:,}: connected (init + ack + subscribe) (s)",
            portico.connect_seconds,
            reference.connect_seconds,
            CONNECT_SECONDS.get(n),
        ),
        Figure(
            f"fanout_n{n}_connect_cpu_ms",
            f"N={n:,}: server CPU per connection (ms)",
            portico.connect_cpu / n * 1000,
            reference.connect_cpu / n * 1000,
        ),
        Figure(
            f"fanout_n{n}_listening_s",
            f"N={n:,}: every subscription delivering (s)",
            portico.listening_seconds,
            reference.listening_seconds,
        ),
    ]
    return figures


def saas_figures(portico: Saas | None, reference: Saas | None) -> list[Figure]:
    """The SaaS case's figures; a side whose subscriptions never all started (None) is invalid (inf)."""

    def cpu_ms(s: Saas | None) -> float:
        return s.server_cpu / max(1, s.events) * 1000 if s is not None else float("inf")

    def ms(s: Saas | None, q: float) -> float:
        valid = s is not None and len(s.latencies) == s.expected and not s.wrong
        return s.p(q) * 1000 if valid else float("inf")  # type: ignore[union-attr]

    measured = portico or reference
    shape = "SaaS" if measured is None else f"SaaS {measured.sockets:,} sockets / {measured.organizations:,} orgs"
    shape += f", {measured.rate:.0f} ev/s" if measured is not None else ""
    return [
        Figure("saas_p50_ms", f"{shape}: p50 (ms)", ms(portico, 0.5), ms(reference, 0.5)),
        Figure("saas_p99_ms", f"{shape}: p99 (ms)", ms(portico, 0.99), ms(reference, 0.99), SAAS_P99_MS),
        Figure("saas_cpu_per_event_ms", f"{shape}: server CPU per event (ms)", cpu_ms(portico), cpu_ms(reference)),
    ]


def saas_checks(side: str, result: Saas) -> list[str]:
    """Problems that make the SaaS figures invalid (missing or misdirected deliveries)."""
    problems = []
    if len(result.latencies) != result.expected:
        problems.append(f"{side}: {len(result.latencies):,} deliveries of {result.expected:,} expected")
    if result.wrong:
        problems.append(f"{side}: {result.wrong} deliveries to a socket that may not see the event")
    if result.duplicates:
        problems.append(f"{side}: {result.duplicates:,} events delivered twice to one socket")
    return problems


def render(header: list[str], figures: list[Figure], problems: list[str]) -> str:
    out = [*header, "", f"{'':<54}{'portico':>10}{'graphql-ws':>12}{'ratio':>10}   target"]
    out += [figure.row() for figure in figures]
    out += [f"INVALID: {problem}" for problem in problems]
    judged = [f for f in figures if f.target is not None]
    met = sum(f.status == "met" for f in judged)
    out += ["", f"targets: {met} of {len(judged)} met", *(f.line() for f in judged)]
    return "\n".join(out)
