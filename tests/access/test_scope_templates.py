"""Loaders' statements are built once per kind of scope (``Scope.bound``) and run with each viewer's ids: one set
for every viewer of a kind, and still each viewer's rows alone."""

from __future__ import annotations

from core.database import Database
from core.scope import PortalScope, StaffScope
from resolvers.loaders import Loaders
from tests.factories import Factory


async def test_viewers_of_one_kind_share_statements_and_each_reads_only_its_own_rows(
    factory: Factory, db: Database
) -> None:
    # given two organizations, each with an invoice of its first contact, and a portal and a staff scope of each
    ours, theirs = await factory.tenant(), await factory.tenant()
    mine, rivals = await factory.invoice(ours.contact_a), await factory.invoice(theirs.contact_a)
    portal = [
        PortalScope(organization_id=t.org.pk, contact_id=t.contact_a.pk, contact_person_id=t.person_a.pk)
        for t in (ours, theirs)
    ]
    staff = [StaffScope(organization_id=t.org.pk) for t in (ours, theirs)]
    # when each reads both invoices through loaders of its own
    loaders = [Loaders(db, scope) for scope in (*portal, *staff)]
    read = [[(await lo.invoice.load(pk)) is not None for pk in (mine.pk, rivals.pk)] for lo in loaders]
    # then the statements are one object per kind, bound to each scope's ids
    assert loaders[0].sql is loaders[1].sql and loaders[2].sql is loaders[3].sql
    assert loaders[0].sql is not loaders[2].sql
    assert loaders[0].values != loaders[1].values
    # and each scope sees its own organization's invoice alone
    assert read == [[True, False], [False, True], [True, False], [False, True]]


async def test_a_portal_scope_binds_its_person_and_keeps_whether_projects_show(factory: Factory, db: Database) -> None:
    # given portal scopes of one person, projects shown and hidden
    tenant = await factory.tenant()
    ids = {"contact_id": tenant.contact_a.pk, "contact_person_id": tenant.person_a.pk}
    shown, hidden = (PortalScope(tenant.org.pk, **ids, show_projects=shows) for shows in (True, False))
    # when both are bound
    (shown_template, shown_values), (hidden_template, hidden_values) = shown.bound(), hidden.bound()
    # then the ids are parameters, the same for both, and the project rule is each template's own
    expected = {
        "scope_organization_id": tenant.org.pk,
        "scope_contact_id": tenant.contact_a.pk,
        "scope_contact_person_id": tenant.person_a.pk,
    }
    assert shown_values == hidden_values == expected
    assert shown_template is not hidden_template
    assert (shown_template.show_projects, hidden_template.show_projects) == (True, False)
    assert shown.bound()[0] is shown_template
