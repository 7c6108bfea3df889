"""The Grafana dashboard in ops/ asks only for metric families the app exports (a rename breaks this, not a
dashboard in production), and every family is on it."""

from __future__ import annotations

import json
import re

from prometheus_client import REGISTRY

from core import metrics  # noqa: F401 (its families are registered at import)
from core.settings import PROJECT_ROOT

DASHBOARD = PROJECT_ROOT / "ops" / "grafana" / "portico.json"


SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def _exported() -> set[str]:
    """The series names of our families (labelled ones have no samples before their first use)."""
    return {
        family.name + suffix
        for family in REGISTRY.collect()
        if family.name.startswith("portico_")
        for suffix in SUFFIXES[family.type]
    }


def test_the_dashboard_shows_every_family_and_only_those() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    asked = {name for expr in expressions for name in re.findall(r"portico_[a-z_]+", expr)}
    exported = _exported()
    assert asked <= exported, asked - exported
    families = {family.name for family in REGISTRY.collect() if family.name.startswith("portico_")}
    shown = {family for family in families if any(name.startswith(family) for name in asked)}
    assert shown == families, families - shown
