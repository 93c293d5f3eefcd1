"""The decision table, as a table: every state and the unknown MAC, discovery on and off."""

import pytest

from pureboot.boot.decision import decide, serves_dhcp, unavailable
from pureboot.lifecycle import State

TABLE = [
    # state, discovery, action, register, transition, token
    (None, True, "agent", True, None, "rotate"),
    (None, False, "ignore", False, None, "none"),
    ("discovered", True, "discover", False, None, "none"),  # facts collected
    ("pending", True, "install", False, "installing", "mint"),
    ("installing", True, "install", False, None, "rotate"),
    ("installed", True, "local", False, None, "none"),
    ("active", True, "local", False, None, "none"),
    ("failed", True, "local", False, None, "none"),
    ("retired", True, "ignore", False, None, "none"),
    ("deprovisioning", True, "agent", False, None, "rotate"),
    ("migrating", True, "agent", False, None, "rotate"),
]


@pytest.mark.parametrize("state,discovery,action,register,transition,token", TABLE)
def test_decision_table(state, discovery, action, register, transition, token):
    decision = decide(state, discovery=discovery)
    assert (decision.action, decision.register, decision.transition, decision.token) == \
        (action, register, transition, token)
    assert decision.reason


def test_discovered_without_facts_boots_the_agent_to_inventory():
    decision = decide("discovered", discovery=True, inventoried=False)
    assert (decision.action, decision.mode, decision.token, decision.transition) == \
        ("agent", "inventory", "rotate", None)
    assert decision.boots_network and "inventory" in decision.reason
    # the agent asking for its tasks keeps its token and stays in inventory mode
    held = decide("discovered", discovery=False, inventoried=False, has_token=True)
    assert (held.action, held.mode, held.token) == ("agent", "inventory", "keep")


def test_unknown_mac_inventories_on_its_first_boot():
    decision = decide(None, discovery=True)
    assert decision.register and decision.mode == "inventory" and decision.action == "agent"


def test_inventory_mode_only_for_discovered():
    for state in State:
        if state != State.DISCOVERED:
            assert decide(state.value, discovery=True, inventoried=False).mode is None
            assert decide(state.value, discovery=True, inventoried=False) == decide(state.value, discovery=True)


def test_every_lifecycle_state_has_a_row():
    covered = {row[0] for row in TABLE if row[0]}
    assert covered == {s.value for s in State}


def test_no_row_starts_an_install_except_pending():
    """Rule C: only a node an admin made pending is ever installed."""
    for state in State:
        decision = decide(state.value, discovery=True)
        if decision.transition is not None:
            assert (state, decision.transition) == (State.PENDING, "installing")


def test_token_holder_keeps_its_token():
    for state in ("installing", "deprovisioning", "migrating"):
        decision = decide(state, discovery=True, has_token=True)
        assert decision.token == "keep" and decision.transition is None


def test_rule_d_is_local():
    assert unavailable().action == "local"


@pytest.mark.parametrize("state,discovery,serve", [
    (None, True, True), (None, False, False), ("discovered", True, True), ("pending", True, True),
    ("installing", True, True), ("deprovisioning", True, True), ("migrating", True, True),
    ("installed", True, False), ("active", True, False), ("retired", True, False), ("failed", True, False)])
def test_rule_e(state, discovery, serve):
    assert serves_dhcp(state, discovery=discovery)[0] is serve
