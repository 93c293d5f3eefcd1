"""The node lifecycle: one table of allowed transitions (PRD 6.1/6.2).

::

    from            to               action        approval  who
    --------------  ---------------  ------------  --------  ---------------------------
    discovered      pending          assign        -         operator (needs a workflow)
    discovered      retired          retire        -         operator
    pending         discovered       unassign      -         operator
    pending         installing       install       -         system (node booted) / operator
    pending         retired          retire        -         operator
    installing      installed        complete      -         system (install reported ok)
    installing      failed           fail          -         system (report, watchdog)
    installed       active           activate      -         system (first boot, post-install)
    installed       failed           fail          -         system (post-install failed)
    installed       pending          reprovision   four-eye  admin (archives configuration)
    active          pending          reprovision   four-eye  admin (archives configuration)
    active          migrating        migrate       four-eye  admin
    active          deprovisioning   deprovision   four-eye  admin
    active          retired          retire        -         operator
    migrating       deprovisioning   migrated      -         system (target restored)
    migrating       failed           fail          -         system
    deprovisioning  retired          wiped         -         system (wipe evidence stored)
    deprovisioning  failed           fail          -         system
    failed          pending          retry         -         operator
    failed          deprovisioning   deprovision   four-eye  admin
    failed          retired          retire        -         operator
    retired         discovered       recommission  -         operator
    retired         deprovisioning   deprovision   four-eye  admin

"Reprovision" in the PRD is the action active -> pending, not a resting state: the node
keeps no reprovision state, its previous configuration is archived in the event.

Each transition names guards (checked before anything changes) and effects (run inside
the same database transaction). Other parts of PureBoot register them by name with
:func:`guard` and :func:`effect`; an unregistered name is an error at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Callable

from .shared import boot_decision


class State(StrEnum):
    DISCOVERED = "discovered"
    PENDING = "pending"
    INSTALLING = "installing"
    INSTALLED = "installed"
    ACTIVE = "active"
    RETIRED = "retired"
    DEPROVISIONING = "deprovisioning"
    MIGRATING = "migrating"
    FAILED = "failed"


#: States in which a node is expected to network-boot into PureBoot (PRD Rule E); the
#: list is the boot decision table's (module_utils/boot_decision.py).
PROVISIONING_STATES = frozenset(State(name) for name in boot_decision.PROVISIONING_STATES)


@dataclass(frozen=True)
class Transition:
    source: State
    target: State
    action: str
    approval: bool = False  # four-eye: never executes on the request itself
    guards: tuple[str, ...] = ()
    effects: tuple[str, ...] = field(default=())


S = State
TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.DISCOVERED, S.PENDING, "assign", guards=("has_workflow",), effects=("pin_workflow",)),
    Transition(S.DISCOVERED, S.RETIRED, "retire"),
    Transition(S.PENDING, S.DISCOVERED, "unassign", effects=("unpin_workflow",)),
    Transition(S.PENDING, S.INSTALLING, "install", guards=("has_workflow",), effects=("start_install",)),
    Transition(S.PENDING, S.RETIRED, "retire"),
    Transition(S.INSTALLING, S.INSTALLED, "complete", effects=("end_install",)),
    Transition(S.INSTALLING, S.FAILED, "fail", effects=("end_install",)),
    Transition(S.INSTALLED, S.ACTIVE, "activate"),
    Transition(S.INSTALLED, S.FAILED, "fail"),
    Transition(S.INSTALLED, S.PENDING, "reprovision", approval=True,
               guards=("has_workflow",), effects=("archive_config", "pin_workflow")),
    Transition(S.ACTIVE, S.PENDING, "reprovision", approval=True,
               guards=("has_workflow",), effects=("archive_config", "pin_workflow")),
    Transition(S.ACTIVE, S.MIGRATING, "migrate", approval=True),
    Transition(S.ACTIVE, S.DEPROVISIONING, "deprovision", approval=True),
    Transition(S.ACTIVE, S.RETIRED, "retire"),
    Transition(S.MIGRATING, S.DEPROVISIONING, "migrated"),
    Transition(S.MIGRATING, S.FAILED, "fail"),
    Transition(S.DEPROVISIONING, S.RETIRED, "wiped"),
    Transition(S.DEPROVISIONING, S.FAILED, "fail"),
    Transition(S.FAILED, S.PENDING, "retry", guards=("has_workflow",), effects=("pin_workflow",)),
    Transition(S.FAILED, S.DEPROVISIONING, "deprovision", approval=True),
    Transition(S.FAILED, S.RETIRED, "retire"),
    Transition(S.RETIRED, S.DISCOVERED, "recommission"),
    Transition(S.RETIRED, S.DEPROVISIONING, "deprovision", approval=True),
)

_BY_EDGE: dict[tuple[State, State], Transition] = {(t.source, t.target): t for t in TRANSITIONS}


def find(source: str, target: str) -> Transition | None:
    """The transition source -> target, or None when the table does not allow it."""
    try:
        return _BY_EDGE.get((State(source), State(target)))
    except ValueError:
        return None


def allowed_targets(source: str) -> list[str]:
    return sorted(t.target.value for t in TRANSITIONS if t.source == source)


# -- hooks ------------------------------------------------------------------------------

Hook = Callable[..., Any]
_GUARDS: dict[str, Hook] = {}
_EFFECTS: dict[str, list[Hook]] = {}


def guard(name: str) -> Callable[[Hook], Hook]:
    """Register the guard `name`: ``fn(session, node, transition, ctx)`` raises to refuse."""
    def register(fn: Hook) -> Hook:
        _GUARDS[name] = fn
        return fn
    return register


def effect(name: str) -> Callable[[Hook], Hook]:
    """Add a function to effect `name`: ``fn(session, node, transition, ctx)``.

    Several parts may attach to one effect (e.g. start_install mints a token and
    later also schedules a watchdog); they run in registration order.
    """
    def register(fn: Hook) -> Hook:
        _EFFECTS.setdefault(name, []).append(fn)
        return fn
    return register


def guards_for(transition: Transition) -> list[Hook]:
    return [_GUARDS[name] for name in transition.guards]


def effects_for(transition: Transition) -> list[Hook]:
    return [fn for name in transition.effects for fn in _EFFECTS.get(name, [])]


def check_hooks_registered() -> None:
    missing = sorted({g for t in TRANSITIONS for g in t.guards} - set(_GUARDS))
    if missing:
        raise RuntimeError(f"lifecycle guards without an implementation: {', '.join(missing)}")
