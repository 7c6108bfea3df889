"""The isolation matrix: every root field, generated from the schema, against every kind of intruder.

For each Query, Mutation and Subscription field (and each download route) the test builds a request from
introspection: arguments aimed at the victim's objects, a selection set that reads everything reachable.
Subscriptions run over a websocket: each actor subscribes to every case, then events about every one of the
victim's objects are emitted (on the victim's channel and, as if misrouted, on the actor's own), then one event
per subscription that the actor may see; once those arrived, nothing before them may have leaked.
Actors: a portal user of contact A against contact B of the same organization; a portal user and a staff
user of another organization against the first organization; anonymous. Nothing of the victim may appear
in any answer (no global id, no marker text), and nothing of the victim may change. As a control, the
victim's own staff sends the same requests and must not get NOT_FOUND, so the ids really pointed at
something. A root field with no way to build a case fails the test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)
from sqlalchemy import Table, insert, select
from sqlmodel import SQLModel

from core.auth import issue_session
from core.database import Database
from core.ids import from_global_id, to_global_id
from core.scope import T_COMMENT, T_CONTACT_PERSON, T_ESTIMATE, T_INVOICE, T_PAYMENT, T_SAVED_METHOD
from core.settings import Settings
from services.documents.lines import LineDraft
from subscriptions.broker import Broker
from subscriptions.events import (
    CommentAdded,
    DocumentStatusChanged,
    DocumentViewed,
    Event,
    PaymentReceived,
    emit,
    organization_channel,
)
from tests.client import GraphQLClient
from tests.factories import Factory, Row
from tests.subscriptions.wsclient import Socket, in_process

PUBLIC_FIELDS = {"me", "login", "logout", "acceptInvite", "requestPasswordReset", "resetPassword"}
ENTITY_TYPES = sorted(
    [
        "ContactPerson",
        "TimeEntry",
        "Contact",
        "Estimate",
        "Invoice",
        "Payment",
        "Project",
        "Task",
        "Session",
        "Comment",
        "StaffUser",
        "SavedPaymentMethod",
    ],
    key=len,
    reverse=True,
)
# documentId (forwardDocument) and targetId (addComment) take an estimate or an invoice (or a project): aim at invoices
ALIASES = {"Document": "Invoice", "Target": "Invoice"}
SKIPPED_TABLES = {"auth_session", "auth_throttle", "outbox_mail", "one_time_token", "document_counter"}
MAX_DEPTH = 4


World = dict[str, str]  # entity type -> the global id of one object of that type, all of one contact


@dataclass
class Victim:
    """What one actor must never see or change."""

    worlds: list[World] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)
    organization_id: int = 0
    contact_id: int | None = None

    def all_ids(self) -> set[str]:
        return {gid for world in self.worlds for gid in world.values()}


@dataclass
class Actor:
    name: str
    victim: Victim
    staff_user_id: int | None = None
    contact_person_id: int | None = None
    organization_id: int = 0
    own: World = field(default_factory=dict)  # objects the actor may see (events about them reach it)


async def build_contact_world(
    factory: Factory, settings: Settings, db: Database, contact: Row, staff: Row, marker: str, person: Row
) -> tuple[World, World]:
    """A contact with one of everything, every text carrying ``marker``; its visible and its hidden objects."""
    lines = [LineDraft(name=f"{marker} line", quantity=Decimal(1), rate=Decimal(10))]
    estimate = await factory.estimate(contact, lines=lines, notes=f"{marker} estimate", reference=f"{marker}-E")
    draft = await factory.invoice(contact, lines=lines, status="DRAFT", notes=f"{marker} draft")
    invoice = await factory.invoice(contact, lines=lines, notes=f"{marker} invoice")
    payment = await factory.payment(contact, [(invoice, Decimal(5))], reference=f"{marker}-P")
    project = await factory.project(contact, name=f"{marker} project")
    task = await factory.task(project, name=f"{marker} task")
    entry = await factory.time_entry(task, notes=f"{marker} entry")
    staff_only = await factory.comment(invoice, staff=staff, body=f"{marker} staff-only", visible=False)
    client_comment = await factory.comment(estimate, person=person, body=f"{marker} client comment")
    async with db.transaction() as session:
        issued = await issue_session(
            session, settings, organization_id=contact.organization_id, contact_person_id=person.pk
        )
        saved_method_pk = await session.scalar(
            insert(T_SAVED_METHOD)
            .values(
                organization_id=contact.organization_id,
                contact_id=contact.pk,
                stripe_payment_method_id=f"pm_{marker.replace('-', '_')}",
                type="CARD",
                brand=f"{marker} brand",
                last4="4242",
            )
            .returning(T_SAVED_METHOD.c.id)
        )
    visible = {
        "Contact": contact.gid,
        "ContactPerson": person.gid,
        "Estimate": estimate.gid,
        "Invoice": invoice.gid,
        "Payment": payment.gid,
        "Project": project.gid,
        "Task": task.gid,
        "TimeEntry": entry.gid,
        "Comment": client_comment.gid,
        "Session": to_global_id("Session", issued.session_id),
        "SavedPaymentMethod": to_global_id("SavedPaymentMethod", saved_method_pk),
    }
    hidden = {"Contact": contact.gid, "Invoice": draft.gid, "Comment": staff_only.gid}
    return visible, hidden


async def build_world(factory: Factory, settings: Settings, db: Database) -> tuple[list[Actor], Actor]:
    org = await factory.organization(name="VICTIM-ORG1 Studio")
    staff = await factory.staff(org, name="VICTIM-ORG1 owner")
    contact_a = await factory.contact(org, display_name="VICTIM-A Corp", notes="VICTIM-A notes")
    contact_b = await factory.contact(org, display_name="VICTIM-B Corp", notes="VICTIM-B notes")
    person_a = await factory.person(contact_a, first_name="VICTIM-A")
    person_b = await factory.person(contact_b, first_name="VICTIM-B")
    visible_a, hidden_a = await build_contact_world(factory, settings, db, contact_a, staff, "VICTIM-A", person_a)
    visible_b, hidden_b = await build_contact_world(factory, settings, db, contact_b, staff, "VICTIM-B", person_b)
    # contact A's portal user must not see contact B at all, nor A's own drafts and staff-only comments
    hidden_from_a = Victim(
        worlds=[visible_b, hidden_b, {"Invoice": hidden_a["Invoice"], "Comment": hidden_a["Comment"]}],
        markers=["VICTIM-B", "VICTIM-A draft", "VICTIM-A staff-only"],
        organization_id=org.pk,
        contact_id=contact_b.pk,
    )
    whole_org = Victim(
        worlds=[visible_a, hidden_a, visible_b, hidden_b, {"StaffUser": staff.gid}],
        markers=["VICTIM-"],
        organization_id=org.pk,
    )
    rival = await factory.organization(name="Rival")
    rival_staff = await factory.staff(rival)
    rival_contact = await factory.contact(rival)
    rival_person = await factory.person(rival_contact)
    rival_world, _ = await build_contact_world(factory, settings, db, rival_contact, rival_staff, "RIVAL", rival_person)
    actors = [
        Actor(
            "portal user of contact A vs contact B",
            hidden_from_a,
            contact_person_id=person_a.pk,
            organization_id=org.pk,
            own=visible_a,
        ),
        Actor(
            "portal user of another organization",
            whole_org,
            contact_person_id=rival_person.pk,
            organization_id=rival.pk,
            own=rival_world,
        ),
        Actor(
            "staff of another organization",
            whole_org,
            staff_user_id=rival_staff.pk,
            organization_id=rival.pk,
            own=rival_world,
        ),
        Actor("anonymous", whole_org),
    ]
    owner = Actor("the victim's own staff (control)", whole_org, staff_user_id=staff.pk, organization_id=org.pk)
    return actors, owner


# ---- building requests from the schema -------------------------------------------------------------------


def entity_of(name: str, root_field: str) -> str | None:
    if root_field == "node":
        return "Node"
    if name == "id" or name == "ids":
        return next((t for t in ENTITY_TYPES if t.lower() in root_field.lower()), None)
    stem = re.sub(r"Ids?$", "", name)
    candidate = stem[:1].upper() + stem[1:]
    candidate = ALIASES.get(candidate, candidate)
    return candidate if candidate in ENTITY_TYPES else None


def sample_scalar(name: str, type_: GraphQLScalarType | GraphQLEnumType) -> Any:
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    lowered = name.lower()
    if type_.name == "Date":
        return dt.date.today().isoformat()
    if type_.name == "DateTime":
        return dt.datetime.now(dt.UTC).isoformat()
    if type_.name == "Decimal":
        return "1.00"
    if type_.name == "Int":
        return 30 if "minutes" in lowered else 1
    if type_.name == "Boolean":
        return True
    if "email" in lowered:
        return "probe@example.test"
    if "password" in lowered:
        return "probe-password-1234"
    if lowered == "currency":
        return "USD"
    if lowered == "otp":
        return "123456"
    return "probe"


def sample_value(name: str, type_: Any, root_field: str, target: World, required: bool) -> Any:
    """A value for an argument or input field; ID slots aim at the object of their type in ``target``."""
    nullable_type = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    required = required or isinstance(type_, GraphQLNonNull)
    if isinstance(nullable_type, GraphQLList):
        inner = sample_value(name, nullable_type.of_type, root_field, target, True)
        return None if inner is None else [inner]
    named = get_named_type(nullable_type)
    if isinstance(named, GraphQLScalarType) and named.name == "ID":
        entity = entity_of(name, root_field)
        aimed = target.get(entity) if entity else None
        return aimed or ("probe" if required else None)
    if not required and not (isinstance(named, GraphQLInputObjectType) and _has_id_slot(named, root_field)):
        return None
    if isinstance(named, GraphQLInputObjectType):
        values = {
            key: sample_value(key, input_field.type, root_field, target, False)
            for key, input_field in named.fields.items()
        }
        return {key: value for key, value in values.items() if value is not None}
    return sample_scalar(name, named)


def _has_id_slot(type_: GraphQLInputObjectType, root_field: str) -> bool:
    return any(entity_of(key, root_field) for key in type_.fields)


def targets_of(root_field: str, field_def: GraphQLField) -> list[str]:
    """The entity types whose victim ids this field's arguments can aim at."""
    found: set[str] = set()

    def visit(name: str, type_: Any) -> None:
        named = get_named_type(type_)
        if isinstance(named, GraphQLScalarType) and named.name == "ID":
            entity = entity_of(name, root_field)
            if entity:
                found.add(entity)
        elif isinstance(named, GraphQLInputObjectType):
            for key, input_field in named.fields.items():
                visit(key, input_field.type)

    for arg_name, arg in field_def.args.items():
        visit(arg_name, arg.type)
    if root_field == "node":
        return sorted(t for t in ENTITY_TYPES if t != "Session")
    return sorted(found)


def selection(type_: Any, schema: GraphQLSchema, depth: int) -> str:
    named = get_named_type(type_)
    if isinstance(named, (GraphQLScalarType, GraphQLEnumType)):
        return ""
    if depth >= MAX_DEPTH:
        return "{ __typename }"
    if isinstance(named, (GraphQLUnionType, GraphQLInterfaceType)):
        possible = schema.get_possible_types(named)
        seen: dict[str, str] = {}
        parts = []
        for member in possible:
            parts.append(f"... on {member.name} {_object_fields(member, schema, depth, seen)}")
        return "{ __typename " + " ".join(parts) + " }"
    return _object_fields(named, schema, depth, {})


def _object_fields(type_: GraphQLObjectType, schema: GraphQLSchema, depth: int, seen: dict[str, str]) -> str:
    parts = ["__typename"]
    for name, field_def in type_.fields.items():
        if any(isinstance(arg.type, GraphQLNonNull) and arg.default_value is None for arg in field_def.args.values()):
            continue
        signature = str(field_def.type)
        # union members may share a field name with different types: alias the later ones
        label = name if seen.setdefault(name, signature) == signature else f"{type_.name}_{name}: {name}"
        sub = selection(field_def.type, schema, depth + 1)
        parts.append(f"{label} {sub}".strip())
    return "{ " + " ".join(parts) + " }"


@dataclass
class Case:
    operation: str
    root_field: str
    target: World
    document: str
    variables: dict[str, Any]

    @property
    def aimed(self) -> bool:
        return bool(self.target)


def cases_for(schema: GraphQLSchema, victim: Victim, operations: tuple[str, ...] = ("query", "mutation")) -> list[Case]:
    cases = []
    roots = {"query": schema.query_type, "mutation": schema.mutation_type, "subscription": schema.subscription_type}
    for operation in operations:
        root = roots[operation]
        if root is None:
            continue
        for name, field_def in root.fields.items():
            targets = targets_of(name, field_def)
            if name == "node":
                aims = [{entity: gid} for world in victim.worlds for entity, gid in world.items()]
            else:
                aims = [world for world in victim.worlds if any(entity in world for entity in targets)]
            # a subscription's aiming arguments narrow a stream that exists without them: probe both
            for target in [*aims, {}] if operation == "subscription" else aims or [{}]:
                variables, declarations, arguments = {}, [], []
                for arg_name, arg in field_def.args.items():
                    value = sample_value(arg_name, arg.type, name, _for_node(name, target), False)
                    if value is None:
                        continue
                    variables[arg_name] = value
                    declarations.append(f"${arg_name}: {arg.type}")
                    arguments.append(f"{arg_name}: ${arg_name}")
                header = f"{operation} Probe({', '.join(declarations)})" if declarations else operation
                call = f"{name}({', '.join(arguments)})" if arguments else name
                document = f"{header} {{ {call} {selection(field_def.type, schema, 1)} }}"
                cases.append(Case(operation, name, target, document, variables))
    return cases


def _for_node(root_field: str, target: World) -> World:
    # node(id:) takes any type: aim its one slot at whatever object the case names
    return {"Node": next(iter(target.values()))} if root_field == "node" and target else target


# ---- checking ---------------------------------------------------------------------------------------------


def leaked(body: dict[str, Any], victim: Victim) -> list[str]:
    text = orjson.dumps(body).decode()
    found = [marker for marker in victim.markers if marker in text]
    victim_ids = victim.all_ids()
    found += [value for value in re.findall(r'"([A-Za-z0-9_-]{6,})"', text) if value in victim_ids]
    return found


async def snapshot(db: Database, victim: Victim) -> str:
    """A digest of every row the victim owns."""
    digest = hashlib.sha256()
    async with db.session() as session:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in SKIPPED_TABLES:
                continue
            stmt = _victim_rows(table, victim)
            if stmt is None:
                continue
            rows = (await session.execute(stmt.order_by(*table.primary_key.columns))).all()
            digest.update(json.dumps([list(row) for row in rows], default=str).encode())
    return digest.hexdigest()


def _victim_rows(table: Table, victim: Victim) -> Any:
    if victim.contact_id is not None:
        if "contact_id" in table.c:
            return select(table).where(table.c.contact_id == victim.contact_id)
        if table.name == "contact":
            return select(table).where(table.c.id == victim.contact_id)
        return None
    if table.name == "organization":
        return select(table).where(table.c.id == victim.organization_id)
    if "organization_id" in table.c:
        return select(table).where(table.c.organization_id == victim.organization_id)
    return None


async def token_for(db: Database, settings: Settings, actor: Actor) -> str | None:
    if actor.staff_user_id is None and actor.contact_person_id is None:
        return None
    async with db.transaction() as session:
        issued = await issue_session(
            session,
            settings,
            organization_id=actor.organization_id,
            staff_user_id=actor.staff_user_id,
            contact_person_id=actor.contact_person_id,
        )
    return issued.token


# Operations that by design never reach another person's objects, even in the same organization.
CONTROL_EXEMPT = {"revokeSession": "a viewer revokes only their own sessions"}


async def test_isolation_matrix(gql: GraphQLClient, factory: Factory, db: Database, settings: Settings) -> None:
    actors, owner = await build_world(factory, settings, db)
    schema = _schema(settings)
    uncovered = [name for name in _root_fields(schema) if not cases_for_field(schema, name, actors[1].victim)]
    assert not uncovered, f"root fields without an isolation case: {uncovered}"
    total = 0
    failures: list[str] = []
    for actor in actors:
        before = await snapshot(db, actor.victim)
        token = await token_for(db, settings, actor)
        for case in cases_for(schema, actor.victim):
            result = await gql.raw(case.document, case.variables, as_=token)
            total += 1
            if result.response.status_code >= 500 or "INTERNAL_SERVER_ERROR" in result.error_codes:
                failures.append(f"{actor.name} / {case.root_field}: internal error {result.body}")
            if found := leaked(result.body, actor.victim):
                failures.append(f"{actor.name} / {case.root_field}({_describe(case.target)}): leaked {found[:3]}")
            if actor.name == "anonymous" and case.root_field not in PUBLIC_FIELDS:
                if result.error_codes != ["UNAUTHENTICATED"]:
                    failures.append(f"anonymous / {case.root_field}: {result.body}")
            if case.operation == "mutation":  # it may have ended the actor's session (logout, password change)
                token = await token_for(db, settings, actor)
        if await snapshot(db, actor.victim) != before:
            failures.append(f"{actor.name}: changed the victim's rows")
    # control: the same mutations from the victim's own staff find their targets (no NOT_FOUND)
    for case in cases_for(schema, owner.victim):
        if not case.aimed or case.operation != "mutation" or case.root_field in CONTROL_EXEMPT:
            continue
        result = await gql.raw(case.document, case.variables, as_=await token_for(db, settings, owner))
        total += 1
        codes = re.findall(r'"code":"([A-Z_]+)"', orjson.dumps(result.body).decode())
        if "NOT_FOUND" in codes or "INTERNAL_SERVER_ERROR" in result.error_codes:
            failures.append(f"control / {case.root_field}({_describe(case.target)}): {result.body}")
    print(
        f"\nisolation matrix: {total} cases over {len(_root_fields(schema))} root fields, "
        f"{len(actors)} intruders and 1 control"
    )
    assert not failures, "\n".join(failures)


def _describe(target: World) -> str:
    parts = []
    for gid in target.values():
        decoded = from_global_id(gid)
        parts.append(f"{decoded[0]}:{decoded[1]}" if decoded else gid)
    return ",".join(parts)


def _schema(settings: Settings) -> GraphQLSchema:
    from schema.schema import build_schema

    return build_schema(settings)._schema


def _root_fields(schema: GraphQLSchema) -> list[str]:
    return [
        *schema.query_type.fields,  # type: ignore[union-attr]
        *(schema.mutation_type.fields if schema.mutation_type else {}),
        *_subscription_fields(schema),
    ]


def _subscription_fields(schema: GraphQLSchema) -> list[str]:
    return list(schema.subscription_type.fields) if schema.subscription_type else []


def cases_for_field(schema: GraphQLSchema, name: str, victim: Victim) -> list[Case]:
    every = cases_for(schema, victim, ("query", "mutation", "subscription"))
    return [case for case in every if case.root_field == name]


# ---- subscriptions ----------------------------------------------------------------------------------------


async def events_about(db: Database, world: World) -> list[Event]:
    """One event of each kind for each object of ``world`` (ids only, as the mutations emit them)."""
    rows: dict[str, Any] = {}
    async with db.session() as session:
        for entity, table in (
            ("Estimate", T_ESTIMATE),
            ("Invoice", T_INVOICE),
            ("Comment", T_COMMENT),
            ("Payment", T_PAYMENT),
        ):
            if entity in world:
                pk = _pk(world[entity])
                rows[entity] = (await session.execute(select(table).where(table.c.id == pk))).one()
        contact_id = next(iter(rows.values())).contact_id if rows else None
        person_pk = _pk(world["ContactPerson"]) if "ContactPerson" in world else None
        if person_pk is None and contact_id is not None:
            person_pk = await session.scalar(
                select(T_CONTACT_PERSON.c.id).where(T_CONTACT_PERSON.c.contact_id == contact_id)
            )
    now = dt.datetime.now(dt.UTC)
    events: list[Event] = []
    for kind in ("Estimate", "Invoice"):
        if kind in rows:
            row = rows[kind]
            events.append(
                DocumentStatusChanged(
                    kind.upper(), row.id, row.contact_id, "SENT", "ACCEPTED", actor_contact_person_id=person_pk
                )
            )  # type: ignore[arg-type]
            if person_pk is not None:
                events.append(DocumentViewed(kind.upper(), row.id, row.contact_id, person_pk, now))  # type: ignore[arg-type]
    if "Comment" in rows:
        events.append(CommentAdded(rows["Comment"].id, rows["Comment"].contact_id))
    if "Payment" in rows:
        events.append(PaymentReceived(rows["Payment"].id, rows["Payment"].contact_id))
    return events


def _pk(global_id: str) -> int:
    decoded = from_global_id(global_id)
    assert decoded is not None, global_id
    return decoded[1]


async def test_isolation_matrix_subscriptions(app: Any, factory: Factory, db: Database, settings: Settings) -> None:
    actors, owner = await build_world(factory, settings, db)
    schema = _schema(settings)
    broker: Broker = app.state.runtime.broker
    fields = _subscription_fields(schema)
    uncovered = [name for name in fields if not cases_for_field(schema, name, actors[1].victim)]
    assert not uncovered, f"subscription fields without an isolation case: {uncovered}"
    failures: list[str] = []
    total = 0
    for actor in [*actors, owner]:
        cases = cases_for(schema, actor.victim, ("subscription",))
        token = await token_for(db, settings, actor)
        if token is None:
            async with in_process(app) as ws:
                await ws.ws.send_json({"type": "connection_init", "payload": {}})
                if (closed := await ws.closed()).code != 4403:
                    failures.append(f"anonymous: websocket not refused with 4403 ({closed.code})")
            continue
        async with in_process(app, token) as ws:
            received, refused = await _subscribe_all(ws, broker, actor, cases)
            victim_events = [event for world in actor.victim.worlds for event in await events_about(db, world)]
            for organization_id in sorted({actor.victim.organization_id, actor.organization_id}):
                await _emit(db, broker, organization_id, victim_events)
            live = [op for op in received if op not in refused]
            if actor is not owner:
                await _emit(db, broker, actor.organization_id, await events_about(db, actor.own))
            # everything emitted before an op's first allowed event was processed before it (one ordered channel)
            waiting_for = live if actor is not owner else [op for op in live if not received[op][0].aimed]
            await _collect(ws, received, waiting_for, failures, actor.name)
        for op, (case, messages) in received.items():
            total += 1
            for message in messages:
                codes = re.findall(r'"code":"([A-Z_]+)"', orjson.dumps(message).decode())
                if "INTERNAL_SERVER_ERROR" in codes:
                    failures.append(f"{actor.name} / {case.root_field}: internal error {message}")
                if actor is owner:
                    if message["type"] == "error":
                        failures.append(f"control / {case.root_field}({_describe(case.target)}): refused {message}")
                elif found := leaked(message, actor.victim):
                    failures.append(f"{actor.name} / {case.root_field}({_describe(case.target)}): leaked {found[:3]}")
            if actor is not owner and case.aimed and op not in refused:
                failures.append(
                    f"{actor.name} / {case.root_field}({_describe(case.target)}): subscribed to the victim's object"
                )
    print(
        f"\nisolation matrix (subscriptions): {total} cases over {len(fields)} fields, "
        f"{len(actors)} intruders and 1 control"
    )
    assert not failures, "\n".join(failures)


async def _subscribe_all(
    ws: Socket, broker: Broker, actor: Actor, cases: list[Case]
) -> tuple[dict[str, tuple[Case, list[dict[str, Any]]]], set[str]]:
    """Subscribe to every case; return once each is refused (an `error` message) or listening."""
    channel = organization_channel(actor.organization_id)
    before = broker.subscriber_count(channel)
    received: dict[str, tuple[Case, list[dict[str, Any]]]] = {}
    for case in cases:
        received[await ws.subscribe(case.document, case.variables)] = (case, [])
    refused: set[str] = set()
    deadline = asyncio.get_running_loop().time() + 10
    while broker.subscriber_count(channel) - before + len(refused) < len(received):
        assert asyncio.get_running_loop().time() < deadline, f"{actor.name}: subscriptions did not start"
        try:
            message = await ws.receive(timeout=0.05)
        except TimeoutError:
            continue
        received[message["id"]][1].append(message)
        if message["type"] == "error":
            refused.add(message["id"])
    return received, refused


async def _emit(db: Database, broker: Broker, organization_id: int, events: list[Event]) -> None:
    async with db.transaction() as session:
        for event in events:
            emit(session, broker, organization_id, event)


async def _collect(
    ws: Socket,
    received: dict[str, tuple[Case, list[dict[str, Any]]]],
    waiting_for: list[str],
    failures: list[str],
    name: str,
) -> None:
    """Read until every op in ``waiting_for`` got a message, then what is still in flight."""
    deadline = asyncio.get_running_loop().time() + 10
    while any(not received[op][1] for op in waiting_for):
        if asyncio.get_running_loop().time() > deadline:
            missing = [received[op][0].root_field for op in waiting_for if not received[op][1]]
            failures.append(f"{name}: no event the actor may see arrived on {missing}")
            return
        try:
            message = await ws.receive(timeout=0.1)
        except TimeoutError:
            continue
        received[message["id"]][1].append(message)
    while True:
        try:
            message = await ws.receive(timeout=0.2)
        except TimeoutError:
            return
        received[message["id"]][1].append(message)
