"""How snapshot facts are read from stored activities (domain/guided/facts.py)."""

import pytest

from domain.guided.facts import (
    email_address,
    email_domain,
    is_inbound,
    is_reply_to_user,
    primary_recipient,
    same_domain,
)


@pytest.mark.parametrize(
    ("address", "domain"),
    [
        ("ann@Example.COM", "example.com"),
        ("Ann Lee <ann@buyer.example>", "buyer.example"),
        ("  ann@buyer.example. ", "buyer.example"),
        ("no-at-sign", None),
        ("@buyer.example", None),
        ("", None),
        (None, None),
    ],
)
def test_email_domain(address: str | None, domain: str | None) -> None:
    assert email_domain(address) == domain


def test_both_at_one_domain_is_the_same_domain_ga_18() -> None:
    assert same_domain("example.com", "example.com")
    assert not same_domain("example.com", "buyer.example")
    assert not same_domain(None, None)


@pytest.mark.parametrize(
    ("activity_type", "details", "inbound"),
    [
        ("email_reply", {}, True),
        ("email_open", {}, True),
        ("meeting", {"meeting": {"booked_by_contact": True}}, True),
        ("meeting", {"meeting": {"booked_by_contact": False}}, False),
        ("email_sent", {}, False),
        ("call", {"call": {"status": "completed"}}, False),
        ("note", {}, False),
    ],
)
def test_inbound_is_the_contacts_own_doing(
    activity_type: str, details: dict[str, object], inbound: bool
) -> None:
    assert is_inbound(activity_type, details) is inbound


def test_the_primary_recipient_is_named_or_the_first_addressee() -> None:
    named = {"email": {"primary_recipient": "Rep <Rep@Leadpipe.example>", "to": ["x@y.z"]}}
    assert primary_recipient(named) == "rep@leadpipe.example"
    assert primary_recipient({"email": {"to": ["a@b.example", "c@d.example"]}}) == "a@b.example"
    assert primary_recipient({"email": {}}) is None
    assert email_address("Rep <rep@leadpipe.example>") == "rep@leadpipe.example"


def test_a_reply_is_to_the_user_when_they_are_its_primary_recipient() -> None:
    to_rep = {"email": {"primary_recipient": "rep@leadpipe.example"}}
    cc_rep = {"email": {"primary_recipient": "boss@leadpipe.example"}}
    assert is_reply_to_user("email_reply", 7, to_rep, 7, "Rep@leadpipe.example")
    assert not is_reply_to_user("email_reply", 7, cc_rep, 7, "rep@leadpipe.example")
    assert not is_reply_to_user("email_reply", 8, to_rep, 7, "rep@leadpipe.example")
    assert not is_reply_to_user("email_sent", 7, to_rep, 7, "rep@leadpipe.example")
    assert is_reply_to_user("email_reply", 7, {}, 7, "rep@leadpipe.example")
