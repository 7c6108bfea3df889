"""One execution per event and audience: subscribers that would get the same answer share it.

An event reaches every subscriber of its channel in the process: hundreds of staff dashboards of one
organization, say. Each re-reads the rows through its own scope (``subscriptions.streams``), but subscribers
with the same scope and role, the same document and the same variables would compute the very same result, so
the first one executes the selection set and the others reuse its result. Payload types reachable from
``Subscription`` must therefore not depend on the session itself (only on the scope and the role), which holds
for every type today: they are built from rows read through the scope.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Any, TypeVar
from weakref import finalize, ref

import orjson
from graphql import ExecutionResult

from core.execution import FastLeafExecutor

T = TypeVar("T")

# id(payload) -> (a weak reference to it, the results computed for it so far, the audience it was built for);
# by id because payloads are dataclasses, not hashable; an entry goes when its payload does
_SHARED: dict[int, tuple[Any, dict[Hashable, Any], Hashable]] = {}


def share(payload: T, results: dict[Hashable, Any], audience: Hashable) -> T:
    """Let the subscribers of ``audience`` that yield this very ``payload`` share its execution."""
    key = id(payload)
    if key not in _SHARED:
        _SHARED[key] = (ref(payload), results, audience)
        finalize(payload, _SHARED.pop, key, None)
    return payload


def _entry(root: Any) -> tuple[dict[Hashable, Any], Hashable] | None:
    entry = _SHARED.get(id(root))
    if entry is None or entry[0]() is not root:
        return None
    return entry[1], entry[2]


class SharedSubscriptionExecutor(FastLeafExecutor):
    """Portico's executor; for a shared subscription payload, a result already computed is reused."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        entry = _entry(self.root_value) if self.root_value is not None else None
        if entry is None:
            return super().execute_operation(serially)
        results, audience = entry
        variables = orjson.dumps(self.variable_values.coerced, option=orjson.OPT_SORT_KEYS, default=str)
        # the operation node is shared by every request with the same text (Strawberry's parser cache); it is
        # kept in the value so that its id cannot be reused while the event lives
        key = (audience, id(self.operation), variables)
        cached = results.get(key)
        if cached is None:
            outcome = super().execute_operation(serially)
            if not self.is_awaitable(outcome):
                results[key] = (outcome, self.operation)
                return _copy(outcome)
            cached = results[key] = (asyncio.ensure_future(outcome), self.operation)
        outcome = cached[0]
        if isinstance(outcome, asyncio.Future):
            return _copy_when_done(outcome)
        return _copy(outcome)


def _copy(result: ExecutionResult) -> ExecutionResult:
    # each subscriber's result object is its own (extensions may set errors on it); the data is shared, read-only
    return ExecutionResult(data=result.data, errors=list(result.errors) if result.errors else None)


async def _copy_when_done(future: asyncio.Future[ExecutionResult]) -> ExecutionResult:
    return _copy(await asyncio.shield(future))
