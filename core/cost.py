"""What an operation may cost, computed from its document before it runs.

Depth and alias limits do not bound work: 28 aliases of ``invoices(first: 100) { comments(first: 100) … }``
are shallow and few, yet ask for millions of fields. The cost here is an upper bound of the fields an operation
resolves: every selected field counts 1 each time it is resolved, and a list multiplies what it selects by its
size: ``first`` on the connection (``DEFAULT_PAGE`` when absent), or for a list without ``first`` the size its
field declares (``strawberry.field(metadata={"list_size": n})``), else ``DEFAULT_LIST_SIZE``. On an abstract
type the most expensive member counts. ``__typename`` is free; introspection counts ``INTROSPECTION_COST``.

No library fits: Strawberry has no cost analysis and graphql-core none either (graphql-js peers such as
graphql-query-complexity are JavaScript), so it is written once here and used by ``core.limits``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_list_type,
    value_from_ast_untyped,
)
from strawberry.schema.schema_converter import GraphQLCoreConverter

DEFAULT_PAGE = 20  # a connection without `first` (resolvers.pagination.DEFAULT_PAGE)
DEFAULT_LIST_SIZE = 10  # a list without `first` whose field declares no size
INTROSPECTION_COST = 500


def cost_description(max_cost: int) -> str:
    """What the schema says of the budget (the description of the root types)."""
    return COST_DESCRIPTION.replace("the limit", f"the limit ({max_cost:,} here)", 1)


COST_DESCRIPTION = (
    "Every operation has a cost, checked before it runs: each selected field counts 1 each time it is resolved, "
    f"and a list multiplies what it selects by its size (`first`, default {DEFAULT_PAGE}; a list without `first` by "
    f"the size its description gives, else {DEFAULT_LIST_SIZE}). An operation above the limit is refused with "
    "`extensions.code = QUERY_TOO_COMPLEX` (and `extensions.cost`, `extensions.maxCost`); the cost is also what the "
    "operation takes from the session's and the client address's rate-limit budgets (`TOO_MANY_REQUESTS`, with "
    "`Retry-After`)."
)


class _Walk:
    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode], variables: Any) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables or {}

    def selection(self, selection_set: SelectionSetNode | None, type_: Any, page: int | None) -> int:
        if selection_set is None:
            return 0
        if is_abstract_type(type_):
            members = self.schema.get_possible_types(type_)
            return max((self.object(selection_set, member, page) for member in members), default=0)
        return self.object(selection_set, type_, page)

    def object(self, selection_set: SelectionSetNode, object_type: GraphQLObjectType, page: int | None) -> int:
        total = 0
        for node in selection_set.selections:
            if not self.included(node):
                continue
            if isinstance(node, FieldNode):
                total += self.field(node, object_type, page)
            elif isinstance(node, InlineFragmentNode):
                if self.applies(node.type_condition.name.value if node.type_condition else None, object_type):
                    total += self.object(node.selection_set, object_type, page)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments.get(node.name.value)
                if fragment is not None and self.applies(fragment.type_condition.name.value, object_type):
                    total += self.object(fragment.selection_set, object_type, page)
        return total

    def field(self, node: FieldNode, parent: GraphQLObjectType, page: int | None) -> int:
        name = node.name.value
        if name == "__typename":
            return 0
        if name in ("__schema", "__type"):
            return INTROSPECTION_COST
        field_def = parent.fields.get(name)
        if field_def is None:  # validation reports it; nothing runs
            return 0
        args = self.arguments(node)
        first = args.get("first") if "first" in field_def.args else None
        if "first" in field_def.args and not isinstance(first, int):
            first = DEFAULT_PAGE
        child_type = get_named_type(field_def.type)
        if _is_list(field_def):
            size = first if first is not None else page if page is not None else _declared_size(field_def)
            return 1 + max(0, size) * max(1, self.selection(node.selection_set, child_type, None))
        # a connection: its `first` sizes the list below it (edges, nodes)
        return 1 + self.selection(node.selection_set, child_type, first)

    def arguments(self, node: FieldNode) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for argument in node.arguments or ():
            if isinstance(argument.value, VariableNode):
                values[argument.name.value] = self.variables.get(argument.value.name.value)
            else:
                values[argument.name.value] = value_from_ast_untyped(argument.value, self.variables)
        return values

    def included(self, node: Any) -> bool:
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            condition = next((a.value for a in directive.arguments if a.name.value == "if"), None)
            if condition is None:
                continue
            value = (
                self.variables.get(condition.name.value)
                if isinstance(condition, VariableNode)
                else value_from_ast_untyped(condition, self.variables)
            )
            if isinstance(value, bool) and value == (name == "skip"):
                return False
        return True

    def applies(self, type_name: str | None, object_type: GraphQLObjectType) -> bool:
        if type_name is None or type_name == object_type.name:
            return True
        condition = self.schema.get_type(type_name)
        return condition is not None and is_abstract_type(condition) and self.schema.is_sub_type(condition, object_type)


def _is_list(field_def: GraphQLField) -> bool:
    type_ = field_def.type.of_type if isinstance(field_def.type, GraphQLNonNull) else field_def.type
    return is_list_type(type_) or isinstance(type_, GraphQLList)


def _declared_size(field_def: GraphQLField) -> int:
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    size = (getattr(definition, "metadata", None) or {}).get("list_size")
    return int(size) if size is not None else DEFAULT_LIST_SIZE


def operation_cost(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any] | None
) -> int:
    """The cost of the operation ``operation_name`` of ``document`` with ``variables`` (see the module)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1:
        return 0  # graphql-core refuses the request before anything runs
    operation = operations[0]
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return _Walk(schema, fragments, variables).selection(operation.selection_set, root, None)


_CACHE: OrderedDict[tuple[Any, ...], tuple[DocumentNode, int]] = OrderedDict()
_CACHE_SIZE = 2048


def cached_operation_cost(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any] | None
) -> int:
    """``operation_cost``, remembered per document and the variables that can change it (integers and booleans:
    ``first``, ``@skip``, ``@include``). Documents come from Strawberry's parser cache, so the same text is the same
    object; it is keyed by identity (a document's own hash walks the whole tree) and kept alive by the entry."""
    sizes = tuple(sorted((k, v) for k, v in (variables or {}).items() if v is None or isinstance(v, bool | int)))
    key = (id(schema), id(document), operation_name, sizes)
    entry = _CACHE.get(key)
    if entry is not None and entry[0] is document:
        _CACHE.move_to_end(key)
        return entry[1]
    cost = operation_cost(schema, document, operation_name, variables)
    _CACHE[key] = (document, cost)
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return cost
