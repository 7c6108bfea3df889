"""From a validated GraphQL operation to one SQL statement that writes the response's ``data`` as JSON text.

The walk follows the selection as graphql-core's executor would (fields collected through fragments, ``@skip`` and
``@include`` applied, response keys merged) and asks ``catalog.CATALOG`` how each field is written. Objects are
JSON objects in selection order (``json_build_object``); a list is an ordered ``json_agg`` in a correlated subquery; a
connection pages its rows in a derived table (``LIMIT first + 1``, as ``paginate`` does) and builds edges, page
info and total count from it. Request values (page sizes, cursors, ids) are parameters, so the statement is built
once per operation and shape (which arguments are given, which directives hold) and reused.

Anything the catalog does not know — a field, an argument, an abstract type, ``@defer`` — raises ``NotPlanned``:
normal execution answers that operation. So does a value normal execution would refuse (a bad cursor, ``first``
out of range): it reports the error in its own words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
)
from graphql.execution.values import get_argument_values
from sqlalchemy import Select, false, func, literal, literal_column, select, true, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by

from core.ids import decode_id
from core.scope import Scope
from resolvers.pagination import MAX_PAGE, decode_cursor
from resolvers.planner.catalog import CATALOG
from resolvers.planner.specs import ById, Child, Children, Leaf, Page, Same
from resolvers.planner.sqljson import EMPTY_LIST, NULL, cursor_text, json_array, json_object, raw_of, text_of

CURSOR_KINDS = {"date": dt.date, "datetime": dt.datetime, "int": int}
SQL_TYPES = {"date": "DATE", "datetime": "TIMESTAMPTZ", "int": "BIGINT"}


class NotPlanned(Exception):
    """The operation (or this request's values) is for normal execution."""


@dataclass
class Binder:
    """How one parameter's value comes from a request: the arguments of one field node, transformed."""

    name: str
    field_def: GraphQLField
    node: FieldNode
    value: Callable[[dict[str, Any]], Any]


@dataclass
class Build:
    """What a compilation collects besides the SQL: its parameters and where their values come from."""

    binders: list[Binder] = field(default_factory=list)

    def param(
        self, sql_type: str, field_def: GraphQLField, node: FieldNode, value: Callable[[dict[str, Any]], Any]
    ) -> Any:
        name = f"p{len(self.binders)}"
        self.binders.append(Binder(name, field_def, node, value))
        return literal_column(f"CAST(__param_{name}__ AS {sql_type})")


class Cols:
    """A row's columns by name, as expressions (what leaves and children read), and what a subquery of its
    children correlates to: the row source's own tables, or the derived table the row comes from."""

    def __init__(self, by_name: dict[str, Any], froms: list[Any]) -> None:
        self._by_name = by_name
        self.froms = froms
        self.c = self

    @staticmethod
    def of_select(source: Select[Any]) -> Cols:
        by_name = {column.key: getattr(column, "element", column) for column in source.selected_columns}
        return Cols(by_name, list(source.get_final_froms()))

    @staticmethod
    def of_subquery(subquery: Any) -> Cols:
        return Cols({column.key: column for column in subquery.c}, [subquery])

    def __getitem__(self, name: str) -> Any:
        try:
            return self._by_name[name]
        except KeyError:
            raise NotPlanned(f"no column {name}") from None


def cursor_values(arguments: dict[str, Any], kinds: list[type]) -> list[Any]:
    """The ``after`` cursor's values; a bad cursor is normal execution's to report."""
    try:
        return decode_cursor(str(arguments["after"]), kinds)
    except GraphQLError:
        raise NotPlanned("bad cursor") from None


def page_size(arguments: dict[str, Any]) -> int:
    first = arguments.get("first")
    if first is None:
        return 20
    if not isinstance(first, int) or not 0 <= first <= MAX_PAGE:
        raise NotPlanned("first out of range")  # normal execution says so
    return first


class Compiler:
    """One compilation: an operation, a viewer's scope template, the variables that decide its shape."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Any,
        scope: Scope,
        *,
        portal: bool,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.variables = variables  # graphql-core's VariableValues (coerced)
        self.scope = scope
        self.portal = portal
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.build = Build()
        self.aliases = 0

    # ---- the selection, as graphql-core collects it

    def collect(
        self, object_type: GraphQLObjectType, nodes: list[FieldNode] | None = None
    ) -> dict[str, list[FieldNode]]:
        fields: dict[str, list[FieldNode]] = {}
        selection_sets = (
            [self.operation.selection_set] if nodes is None else [n.selection_set for n in nodes if n.selection_set]
        )
        for selection_set in selection_sets:
            self._collect(object_type, selection_set, fields, set())
        return fields

    def _collect(
        self,
        object_type: GraphQLObjectType,
        selection_set: SelectionSetNode,
        fields: dict[str, list[FieldNode]],
        seen: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(selection.type_condition, object_type):
                    self._collect(object_type, selection.selection_set, fields, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen or not self._applies(fragment.type_condition, object_type):
                    continue
                self._collect(object_type, fragment.selection_set, fields, seen | {name})

    def _included(self, node: Any) -> bool:
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                raise NotPlanned(f"directive @{name}")
            definition = self.schema.get_directive(name)
            assert definition is not None
            value = get_argument_values(definition, directive, self.variables).get("if")
            if value is (name == "skip"):
                return False
        return True

    def _applies(self, condition: Any, object_type: GraphQLObjectType) -> bool:
        if condition is None or condition.name.value == object_type.name:
            return True
        target = self.schema.get_type(condition.name.value)
        if target is not None and is_abstract_type(target):
            return self.schema.is_sub_type(target, object_type)  # type: ignore[arg-type]
        return False

    def arguments(self, field_def: GraphQLField, node: FieldNode) -> dict[str, Any]:
        return get_argument_values(field_def, node, self.variables)

    # ---- JSON text of objects and fields

    def root(self) -> Any:
        query = self.schema.query_type
        assert query is not None
        return self.object(query, None, self.collect(query))

    def object(self, object_type: GraphQLObjectType, row: Any, fields: dict[str, list[FieldNode]]) -> Any:
        specs = CATALOG.get(object_type.name)
        if specs is None:
            raise NotPlanned(f"type {object_type.name}")
        pairs = []
        for key, nodes in fields.items():
            name = nodes[0].name.value
            if name == "__typename":
                pairs.append((key, literal(object_type.name)))
                continue
            spec = specs.get(name)
            field_def = object_type.fields.get(name)
            if spec is None or field_def is None:
                raise NotPlanned(f"field {object_type.name}.{name}")
            pairs.append((key, self.field(spec, field_def, row, nodes)))
        return json_object(pairs)

    def field(self, spec: Any, field_def: GraphQLField, row: Any, nodes: list[FieldNode]) -> Any:
        node = nodes[0]
        if isinstance(spec, Page):
            return self.page(spec, field_def, row, nodes)
        if isinstance(spec, ById):
            return self.by_id(spec, field_def, nodes)
        if any(self.arguments(field_def, node).get(name) is not None for name in field_def.args):
            raise NotPlanned("arguments")
        if isinstance(spec, Leaf):
            if spec.staff_only and self.portal:
                return EMPTY_LIST if spec.empty == "[]" else NULL
            return spec.json(row, self.scope)
        target = self.object_type_of(field_def)
        if isinstance(spec, Same):
            return self.object(target, spec.row(row), self.collect(target, nodes))
        if isinstance(spec, Child | Children):
            # the related rows as a derived table (correlated to this row), so grouped sources work too
            self.aliases += 1
            correlate = row.froms if row is not None else []
            sub = spec.rows(self.scope, row).correlate(*correlate).subquery(f"r{self.aliases}")
            child = Cols.of_subquery(sub)
            element = self.object(target, child, self.collect(target, nodes))
            if isinstance(spec, Child):
                value = select(element).select_from(sub).limit(1).scalar_subquery()
                return func.coalesce(value, NULL) if spec.nullable else value
            aggregated = select(json_array(element, *spec.order(child))).select_from(sub).scalar_subquery()
            return func.coalesce(aggregated, EMPTY_LIST)
        raise NotPlanned(f"spec {spec!r}")

    def object_type_of(self, field_def: GraphQLField) -> GraphQLObjectType:
        target = get_named_type(field_def.type)
        if not isinstance(target, GraphQLObjectType):
            raise NotPlanned("abstract or scalar target")
        return target

    def by_id(self, spec: ById, field_def: GraphQLField, nodes: list[FieldNode]) -> Any:
        node = nodes[0]
        extra = {k for k, v in self.arguments(field_def, node).items() if k != "id" and v is not None}
        if extra:
            raise NotPlanned("arguments")
        pk = self.build.param(
            "BIGINT", field_def, node, lambda args, type_name=spec.type_name: decode_id(str(args["id"]), type_name)
        )
        source = spec.rows(self.scope)
        target = self.object_type_of(field_def)
        row = Cols.of_select(source)
        value = source.with_only_columns(self.object(target, row, self.collect(target, nodes))).where(row["id"] == pk)
        return func.coalesce(value.limit(1).scalar_subquery(), NULL)

    def page(self, spec: Page, field_def: GraphQLField, parent: Any, nodes: list[FieldNode]) -> Any:
        node = nodes[0]
        arguments = self.arguments(field_def, node)
        if any(v is not None for k, v in arguments.items() if k not in ("first", "after")):
            raise NotPlanned("connection filter")
        first = self.build.param("INTEGER", field_def, node, page_size)
        limit = self.build.param("INTEGER", field_def, node, lambda args: page_size(args) + 1)
        source = spec.rows(self.scope, parent)
        cols = Cols.of_select(source)
        key = [cols[name] for name, _ in spec.key]
        order = [k.desc() if spec.descending else k.asc() for k in key]
        counted = source  # totalCount: every row of the filter, no cursor
        after_given = arguments.get("after") is not None
        if after_given:
            kinds = [CURSOR_KINDS[kind] for _, kind in spec.key]
            values = [
                self.build.param(
                    SQL_TYPES[kind],
                    field_def,
                    node,
                    lambda args, i=i, kinds=kinds: cursor_values(args, kinds)[i],
                )
                for i, (_, kind) in enumerate(spec.key)
            ]
            bound = tuple_(*key) < tuple_(*values) if spec.descending else tuple_(*key) > tuple_(*values)
            source = source.where(bound)
        connection_type = self.object_type_of(field_def)
        fields = self.collect(connection_type, nodes)
        edge_field = connection_type.fields["edges"]
        edge_type = self.object_type_of(edge_field)
        edge_fields = self.collect(edge_type, fields["edges"]) if "edges" in fields else {}
        node_field = edge_type.fields["node"]
        node_type = self.object_type_of(node_field)
        self.aliases += 1
        correlate = parent.froms if parent is not None else []
        # the page's rows as they are (derived columns such as a currency's digits computed once per row) ...
        rows = source.order_by(*order).limit(limit).correlate(*correlate).subquery(f"rows{self.aliases}")
        row = Cols.of_subquery(rows)
        row_key = [row[name] for name, _ in spec.key]
        row_order = [k.desc() if spec.descending else k.asc() for k in row_key]
        # ... then each row's place, cursor and node
        columns: list[Any] = [func.row_number().over(order_by=row_order).label("rn")]
        columns.append(cursor_text(list(zip(row_key, [kind for _, kind in spec.key], strict=True))).label("cursor"))
        for edge_key, edge_nodes in edge_fields.items():
            if edge_nodes[0].name.value == "node":
                columns.append(self.object(node_type, row, self.collect(node_type, edge_nodes)).label(f"n_{edge_key}"))
        p = select(*columns).select_from(rows).subquery(f"page{self.aliases}")
        shown = p.c.rn <= first
        # one row at least (an empty page still answers), joined to the page rows
        rows_from: Any = select(literal(1).label("one")).subquery(f"one{self.aliases}").outerjoin(p, true())
        if any(nodes_[0].name.value == "totalCount" for nodes_ in fields.values()):
            # every row of the filter, no cursor: a one-row derived table the page is joined to (correlated like it)
            total = counted.with_only_columns(func.count().label("n")).order_by(None).correlate(*correlate)
            totals = total.subquery(f"total{self.aliases}")
            rows_from = totals.outerjoin(p, true())
        pairs = []
        for key_name, field_nodes in fields.items():
            name = field_nodes[0].name.value
            if name == "__typename":
                pairs.append((key_name, literal(connection_type.name)))
            elif name == "totalCount":
                pairs.append((key_name, raw_of(func.max(totals.c.n))))
            elif name == "edges":
                edge_pairs = []
                for edge_key, edge_nodes in edge_fields.items():
                    edge_name = edge_nodes[0].name.value
                    if edge_name == "cursor":
                        edge_pairs.append((edge_key, text_of(p.c.cursor)))
                    elif edge_name == "node":
                        edge_pairs.append((edge_key, p.c[f"n_{edge_key}"]))
                    elif edge_name == "__typename":
                        edge_pairs.append((edge_key, literal(edge_type.name)))
                    else:
                        raise NotPlanned(f"edge field {edge_name}")
                joined = func.json_agg(aggregate_order_by(json_object(edge_pairs), p.c.rn)).filter(shown)
                pairs.append((key_name, func.coalesce(joined, EMPTY_LIST)))
            elif name == "pageInfo":
                pairs.append((key_name, self.page_info(connection_type, field_nodes, p, shown, after_given)))
            else:
                raise NotPlanned(f"connection field {name}")
        answer = select(json_object(pairs)).select_from(rows_from)
        if not any(name in ("edges", "totalCount", "pageInfo") for name in (n[0].name.value for n in fields.values())):
            answer = answer.limit(1)  # nothing aggregated: every row says the same
        return answer.scalar_subquery()

    def page_info(
        self, connection_type: GraphQLObjectType, nodes: list[FieldNode], p: Any, shown: Any, after: bool
    ) -> Any:
        info_type = self.object_type_of(connection_type.fields["pageInfo"])

        def shown_cursor(*order: Any) -> Any:
            # cursors are base64url, so a comma separates them safely; the first of the ordered list is the one
            joined = func.string_agg(p.c.cursor, aggregate_order_by(literal(","), *order)).filter(shown)
            return text_of(func.split_part(joined, ",", 1))

        pairs = []
        for key, field_nodes in self.collect(info_type, nodes).items():
            name = field_nodes[0].name.value
            if name == "hasNextPage":
                pairs.append((key, raw_of(func.count(p.c.rn) > func.count(p.c.rn).filter(shown))))
            elif name == "hasPreviousPage":
                pairs.append((key, true() if after else false()))
            elif name == "startCursor":
                pairs.append((key, shown_cursor(p.c.rn)))
            elif name == "endCursor":
                pairs.append((key, shown_cursor(p.c.rn.desc())))
            elif name == "__typename":
                pairs.append((key, literal(info_type.name)))
            else:
                raise NotPlanned(f"pageInfo field {name}")
        return json_object(pairs)
