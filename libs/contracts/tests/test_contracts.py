import json

import pytest

from frontdesk.contracts import CATALOGUE, Envelope, UnknownEventError, event_class, parse
from frontdesk.contracts.asyncapi import document
from frontdesk.contracts.compat import incompatibilities, schema_of, snapshot_path
from frontdesk.contracts.customers import CustomerRegistered


@pytest.mark.parametrize("cls", CATALOGUE, ids=lambda c: c.routing_key())
def test_every_contract_matches_its_committed_snapshot(cls):
    path = snapshot_path(cls)
    assert path.exists(), f"no snapshot for {cls.routing_key()}: run `make contracts`"
    old = json.loads(path.read_text())
    assert incompatibilities(old, schema_of(cls)) == []


def test_routing_keys_are_unique_and_versioned():
    keys = [cls.routing_key() for cls in CATALOGUE]
    assert len(keys) == len(set(keys))
    for key in keys:
        service, _aggregate, _event, version = key.split(".")
        producers = {"customers", "credits", "scheduling", "notifications", "billing", "identity"}
        assert service in producers
        assert version.startswith("v") and version[1:].isdigit()


def test_removing_a_field_is_incompatible():
    old = {"properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["a"]}
    new = {"properties": {"a": {"type": "string"}}, "required": ["a"]}
    assert incompatibilities(old, new) == ["b: removed"]


def test_retyping_or_requiring_a_field_is_incompatible():
    old = {"properties": {"a": {"type": "string"}}, "required": []}
    new = {"properties": {"a": {"type": "integer"}}, "required": ["a"]}
    assert incompatibilities(old, new) == ["a: type changed", "a: now required"]


def test_adding_an_optional_field_is_compatible():
    old = {"properties": {"a": {"type": "string"}}, "required": ["a"]}
    new = {"properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a"]}
    assert incompatibilities(old, new) == []


def test_envelope_round_trip_and_parse():
    import uuid

    event = CustomerRegistered(customer_id=uuid.uuid4(), first_name="Ada", last_name="Lovelace")
    env = Envelope.wrap(
        event, tenant_id=uuid.uuid4(), aggregate_id=event.customer_id, aggregate_version=1
    )
    again = Envelope.model_validate_json(env.model_dump_json())
    assert again.routing_key == "customers.customer.registered.v1"
    assert parse(again) == event


def test_unknown_event_is_refused():
    with pytest.raises(UnknownEventError):
        event_class("customers.customer.exploded.v1")


def test_asyncapi_lists_every_event():
    doc = document()
    addresses = {ch["address"] for ch in doc["channels"].values()}
    assert addresses == {cls.routing_key() for cls in CATALOGUE}
    assert doc["asyncapi"].startswith("3.")
