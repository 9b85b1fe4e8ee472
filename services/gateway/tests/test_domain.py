"""The gateway's rules without a database: who manages whom, refresh outcomes, one-time
secrets, passwords, webhook URLs and retry schedule, routes, the merged OpenAPI document
and rate-limit verdicts."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from frontdesk.gateway.domain.accounts import LINK, PASSWORD, CustomerAccount, User
from frontdesk.gateway.domain.edge import Count, Limit, RouteTable, judge, merge_openapi
from frontdesk.gateway.domain.keys import due_for_rotation, still_published
from frontdesk.gateway.domain.passwords import check_password
from frontdesk.gateway.domain.secrets import new_secret, read_secret
from frontdesk.gateway.domain.sessions import LoginSession, Refresh
from frontdesk.gateway.domain.tenants import Tenant
from frontdesk.gateway.domain.webhooks import Attempt, Delivery, WebhookEndpoint, check_url
from frontdesk.kit.auth import Permission, Principal, Role
from frontdesk.kit.errors import ConflictError, NotAllowed, RuleBroken

TENANT = uuid.uuid4()
NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


def who(role: Role, sub: str | None = None) -> Principal:
    return Principal(sub=sub or str(uuid.uuid4()), tenant_id=TENANT, role=role)


@pytest.mark.parametrize(
    ("by", "role", "allowed"),
    [
        (Role.owner, Role.admin, True),
        (Role.owner, Role.staff, True),
        (Role.admin, Role.staff, True),
        (Role.admin, Role.admin, False),
        (Role.staff, Role.staff, False),
        (Role.customer, Role.staff, False),
    ],
)
def test_who_may_invite_whom(by, role, allowed):
    if allowed:
        user = User.invite(who(by), email=" Ann@X.COM ", name="Ann", role=role)
        assert user.email == "ann@x.com" and user.status == "invited"
    else:
        with pytest.raises(NotAllowed):
            User.invite(who(by), email="a@x.com", name="A", role=role)
    with pytest.raises(RuleBroken):
        User.invite(who(Role.owner), email="a@x.com", name="A", role=Role.owner)


def test_permissions_are_for_staff_and_nobody_changes_themselves_or_the_owner():
    owner = who(Role.owner)
    user = User.invite(
        owner,
        email="s@x.com",
        name="S",
        role=Role.staff,
        permissions=[Permission.view_notes, Permission.view_notes],
    )
    assert user.permissions == ["view_notes"]
    user.assign(owner, role=Role.admin)
    assert user.role == "admin" and user.permissions == []
    with pytest.raises(NotAllowed):
        user.assign(who(Role.owner, sub=str(user.id)), role=Role.staff)
    with pytest.raises(NotAllowed):
        user.assign(who(Role.admin), permissions=[])  # an admin cannot change an admin
    founder = User.founder(TENANT, "o@x.com", "O", "hash")
    with pytest.raises(NotAllowed):
        founder.disable(who(Role.admin))
    with pytest.raises(NotAllowed):
        founder.assign(owner, role=Role.staff)


def test_an_invitation_is_accepted_once():
    user = User.invite(who(Role.owner), email="s@x.com", name="S", role=Role.staff)
    assert not user.can_log_in
    user.accept("hash", "Sam")
    assert user.can_log_in and user.name == "Sam"
    with pytest.raises(ConflictError):
        user.accept("hash")


def test_refresh_outcomes():
    session = LoginSession.start(TENANT, uuid.uuid4(), kind="staff", method="password")
    later = NOW + timedelta(days=1)
    assert session.judge_refresh(used_at=None, expires_at=later, now=NOW) is Refresh.ROTATE
    assert session.judge_refresh(used_at=NOW, expires_at=later, now=NOW) is Refresh.REUSED
    assert session.judge_refresh(used_at=None, expires_at=NOW, now=NOW) is Refresh.EXPIRED
    assert session.revoke("logout", NOW) and not session.revoke("again", NOW)
    assert session.judge_refresh(used_at=None, expires_at=later, now=NOW) is Refresh.REVOKED


def test_one_time_secrets_name_their_tenant_and_are_stored_as_digests():
    secret = new_secret(TENANT)
    tenant_id, digest = read_secret(secret)  # type: ignore[misc]
    assert tenant_id == TENANT and len(digest) == 32 and secret.encode() not in digest
    assert new_secret(TENANT) != secret
    for bad in ("", "x.y", secret + "x", secret.replace(".", "-"), "ü" * 76):
        assert read_secret(bad) is None


@pytest.mark.parametrize(
    "password", ["short", "1234567890", "aaaaaaaaaaaaa", "x" * 201, "ann@x.com", "ANN@x.com"]
)
def test_weak_passwords_are_refused_naming_the_field(password):
    with pytest.raises(RuleBroken) as caught:
        check_password(password, "ann@x.com")
    assert caught.value.field == "password"


def test_a_customers_new_password_needs_the_current_one_unless_a_fresh_link_signed_in():
    account = CustomerAccount.open(TENANT, uuid.uuid4(), "Cleo@Example.com")
    fresh_since = NOW - timedelta(hours=1)

    def needs(method: str | None, started: datetime | None) -> bool:
        return account.needs_current_password(
            session_method=method, session_started=started, fresh_since=fresh_since
        )

    assert not account.has_password and not needs(PASSWORD, NOW)  # nothing to know yet
    account.set_password("$argon2id$hash", NOW)
    assert account.has_password and account.password_changed_at == NOW
    assert "hash" not in repr(account)
    assert not needs(LINK, NOW - timedelta(minutes=5))  # the link proved the email
    assert needs(LINK, NOW - timedelta(hours=2))  # long ago: anyone at the device
    assert needs(PASSWORD, NOW) and needs(None, None)
    account.rehashed("$argon2id$stronger")
    assert account.password_changed_at == NOW  # a rehash is no change of password


def test_a_tenant_announces_what_changed_with_every_value():
    tenant = Tenant.new(
        {
            "slug": "s",
            "name": "S",
            "default_country": "DE",
            "language": "de",
            "currency": "EUR",
            "time_zone": "Europe/Berlin",
            "seller": {"city": "Berlin"},
        }
    )
    [created] = tenant.collect_events()
    assert created.created and created.seller.city == "Berlin"
    tenant.edit({"name": "S", "currency": "CHF"})
    [changed] = tenant.collect_events()
    assert changed.changed == ["currency"] and changed.name == "S" and not changed.created
    tenant.edit({"name": "S"})
    assert tenant.collect_events() == []


@pytest.mark.parametrize(
    ("url", "ok_in_production"),
    [
        ("https://hooks.example.com/in", True),
        ("http://hooks.example.com/in", False),
        ("https://localhost/in", False),
        ("https://127.0.0.1/in", False),
        ("https://10.1.2.3/in", False),
        ("https://[::1]/in", False),
        ("https://db.internal/in", False),
        ("https://user:pw@example.com/in", False),
        ("ftp://example.com/in", False),
        ("example.com/in", False),
    ],
)
def test_webhook_urls_are_public_https_in_production(url, ok_in_production):
    if ok_in_production:
        assert check_url(url, allow_insecure=False) == url
    else:
        with pytest.raises(RuleBroken):
            check_url(url, allow_insecure=False)


def test_a_delivery_retries_with_growing_delays_then_fails_and_a_replay_starts_again():
    endpoint = WebhookEndpoint.register(
        TENANT,
        url="https://x.example/h",
        event_types=["a.b.c"],
        description=None,
        known_types={"a.b.c"},
        allow_insecure=False,
    )
    assert endpoint.secret.startswith("whsec_") and endpoint.wants("a.b.c")
    delivery = Delivery.of_event(
        endpoint, event_id=uuid.uuid4(), event_type="a.b.c", payload={}, now=NOW
    )
    delays = [5, 300, 1800]
    fail = Attempt(500, "HTTP 500")
    at = NOW
    for delay in delays:
        delivery.attempted(fail, at, delays)
        assert delivery.status == "pending" and delivery.next_attempt_at == at + timedelta(
            seconds=delay
        )
        at = delivery.next_attempt_at
    delivery.attempted(Attempt(None, "timeout"), at, delays)
    assert delivery.status == "failed" and delivery.attempts == 4
    delivery.replay(at)
    assert delivery.status == "pending" and delivery.next_attempt_at == at
    delivery.attempted(Attempt(204, None), at, delays)
    assert delivery.status == "succeeded" and delivery.delivered_at == at


def test_routes_by_prefix_declared_then_discovered():
    table = RouteTable({"customers": "customers"}, own={"auth", "users"})
    table.learn("billing", {"paths": {"/v1/invoices/{id}": {}, "/v1/users": {}, "/healthz": {}}})
    assert table.owner("/v1/customers/1/notes") == "customers"
    assert table.owner("/v1/invoices/9") == "billing"
    assert table.owner("/v1/users") is None  # the gateway's own
    assert table.owner("/v2/customers") is None and table.owner("/v1/") is None


def test_the_merged_document_keeps_every_path_and_apart_what_differs():
    own = {
        "openapi": "3.1.0",
        "paths": {"/v1/auth/login": {"post": {"operationId": "login", "tags": ["auth"]}}},
        "components": {"schemas": {"ProblemBody": {"title": "Problem"}}},
    }
    billing = {
        "paths": {
            "/v1/invoices": {
                "get": {
                    "operationId": "login",
                    "tags": ["invoices"],
                    "responses": {
                        "200": {
                            "content": {
                                "a": {"schema": {"$ref": "#/components/schemas/ProblemBody"}}
                            }
                        }
                    },
                }
            }
        },
        "components": {"schemas": {"ProblemBody": {"title": "Different"}}},
    }
    merged = merge_openapi(own, {"billing": billing})
    assert set(merged["paths"]) == {"/v1/auth/login", "/v1/invoices"}
    operation = merged["paths"]["/v1/invoices"]["get"]
    assert operation["operationId"] == "billing_login" and operation["x-service"] == "billing"
    ref = operation["responses"]["200"]["content"]["a"]["schema"]["$ref"]
    assert ref == "#/components/schemas/billing.ProblemBody"
    assert merged["components"]["schemas"]["ProblemBody"]["title"] == "Problem"
    assert {g["name"] for g in merged["x-tagGroups"]} == {"gateway", "billing"}


def test_rate_limit_verdicts_tell_the_tightest_window():
    tenant = Limit("tenant", "t", 100, 60)
    address = Limit("address", "a", 10, 60)
    verdict = judge([Count(tenant, 50, 30_000), Count(address, 8, 10_000)])
    assert verdict.allowed and verdict.headers["RateLimit-Remaining"] == "2"
    assert verdict.headers["RateLimit-Limit"] == "10" and verdict.headers["RateLimit-Reset"] == "10"
    assert verdict.headers["RateLimit-Policy"] == "100;w=60, 10;w=60"
    refused = judge([Count(tenant, 50, 30_000), Count(address, 11, 4_200)])
    assert not refused.allowed and refused.retry_after == 5 and refused.refused_by == "address"
    assert refused.headers["Retry-After"] == "5" and refused.headers["RateLimit-Remaining"] == "0"
    assert judge([]).allowed


def test_keys_rotate_when_old_and_stay_published_while_their_tokens_live():
    assert due_for_rotation(NOW - timedelta(days=31), NOW, 30)
    assert not due_for_rotation(NOW - timedelta(days=29), NOW, 30)
    assert still_published(None, NOW, 900)
    assert still_published(NOW - timedelta(seconds=900), NOW, 900)
    assert not still_published(NOW - timedelta(seconds=1100), NOW, 900)
