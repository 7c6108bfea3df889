"""A graphql-core executor that completes plain leaf fields in one pass.

Most fields of a portal response are plain attributes of plain objects (``number``, ``total``, ``status``):
the stock executor builds a resolve-info object, calls a resolver, checks for awaitables and completes each
of them one by one, about 6 µs a field. Here a field that is a plain Strawberry attribute (no resolver, no
arguments, no field extensions) with a scalar or enum type is read with ``getattr`` and serialized directly.
Anything else — resolvers, objects, lists, nulls, errors, ``__typename`` — takes the stock path unchanged, so
results and errors are exactly what the stock executor produces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)
from graphql.execution.executor import gather_with_cancel
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

Plan = tuple[str, Callable[[Any], Any]]  # attribute name, serializer
_PLANS: dict[tuple[int, str], dict[str, Plan]] = {}


def _plan_for(field_def: Any) -> Plan | None:
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if definition is None or definition.base_resolver is not None or definition.extensions or field_def.args:
        return None
    if getattr(definition, "permission_classes", None):
        return None
    leaf = field_def.type.of_type if isinstance(field_def.type, GraphQLNonNull) else field_def.type
    if not isinstance(leaf, (GraphQLScalarType, GraphQLEnumType)):
        return None
    return definition.python_name, leaf.coerce_output_value


def _plans(schema: Any, parent_type: GraphQLObjectType) -> dict[str, Plan]:
    key = (id(schema), parent_type.name)
    plans = _PLANS.get(key)
    if plans is None:
        plans = {}
        for name, field_def in parent_type.fields.items():
            plan = _plan_for(field_def)
            if plan is not None:
                plans[name] = plan
        _PLANS[key] = plans
    return plans


class FastLeafExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor with a one-pass path for plain scalar and enum attributes, which lets go of itself
    when its operation is done."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        result = super().execute_operation(serially)
        if self.is_awaitable(result):
            return self._released_after(result)
        self._release(result)
        return result

    async def _released_after(self, pending: Any) -> Any:
        result = await pending
        self._release(result)
        return result

    def _release(self, result: Any) -> None:
        """Break the executor's reference cycle (its resolvers' helpers are its own bound methods) once a result is
        complete, so reference counting frees it and all it collected at once. Left alone, every execution was
        cyclic garbage of ~60 objects for the collector; an event fanned out to three audiences 200 times a second
        kept it busy, and what outlived a young collection made the full ones (1.7 s with 10,000 open sockets)."""
        if isinstance(result, ExecutionResult):  # (an incremental result still needs its executor)
            self.async_helpers = None  # type: ignore[assignment]

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:  # a field middleware must see every field
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        plans = _plans(self.schema, parent_type)
        results: dict[str, Any] = {}
        pending: list[str] = []
        is_awaitable = self.is_awaitable
        try:
            for response_name, field_details_list in grouped_field_set.items():
                if len(field_details_list) == 1:
                    node = field_details_list[0].node
                    plan = plans.get(node.name.value)
                    if plan is not None and not node.arguments:
                        value = getattr(source_value, plan[0], None)
                        if value is not None:
                            coerced = _coerce(plan[1], value)
                            if coerced is not Undefined and coerced is not None:
                                results[response_name] = coerced
                                continue
                field_path = Path(path, response_name, parent_type.name)
                result = self.execute_field(parent_type, source_value, field_details_list, field_path, position_context)
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        pending.append(response_name)
        except Exception:
            if pending:
                self.settle_in_background([results[name] for name in pending])
            raise
        if not pending:
            return results

        async def gather() -> dict[str, Any]:
            if len(pending) == 1:
                results[pending[0]] = await results[pending[0]]
            else:
                values = await gather_with_cancel(*(results[name] for name in pending))
                results.update(zip(pending, values, strict=True))
            return results

        return gather()


def _coerce(serialize: Callable[[Any], Any], value: Any) -> Any:
    try:
        return serialize(value)
    except Exception:  # let the stock path raise the proper field error
        return Undefined
