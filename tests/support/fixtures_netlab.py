"""Pytest fixtures for VM tests. Import them into a conftest.py:

    from tests.support.fixtures_netlab import *  # noqa: F401,F403

`netlab` gives a fresh :class:`NetLab` per test (prefix from the test's package:
override with ``@pytest.mark.netlab_prefix("pb-boot")``), torn down even when the
test fails; `vm_factory` makes :class:`VM` objects that are stopped at the end;
`debian_kernel` is the session-wide cached kernel; `agent_build` the deploy agent, built
once per session (its Debian packages cached in ~/.cache/pureboot). Each skips with the reason when
the machine cannot run it (not root, no `ip`, no qemu, no OVMF).
"""

from __future__ import annotations

import pytest

from . import bootenv, qemu
from . import netlab as _netlab

__all__ = ["netlab", "vm_factory", "debian_kernel", "agent_build", "require_qemu", "require_uefi"]


def _skip_if(reason: str | None) -> None:
    if reason:
        pytest.skip(reason)


@pytest.fixture
def require_qemu():
    _skip_if(qemu.unavailable_reason("bios"))


@pytest.fixture
def require_uefi():
    _skip_if(qemu.unavailable_reason("uefi"))


@pytest.fixture
def netlab(request):
    _skip_if(_netlab.unavailable_reason())
    marker = request.node.get_closest_marker("netlab_prefix")
    prefix = marker.args[0] if marker else "pb-" + request.module.__name__.split(".")[-2][:8]
    lab = _netlab.NetLab(prefix)
    request.addfinalizer(lab.close)
    return lab


@pytest.fixture
def vm_factory(request, tmp_path):
    """``vm_factory(lab, name=..., firmware=..., ...)`` -> a started-later VM; all stopped at teardown."""
    _skip_if(qemu.unavailable_reason("bios"))
    made: list[qemu.VM] = []

    def make(lab, **kw) -> qemu.VM:
        if kw.get("firmware") == "uefi":
            _skip_if(qemu.unavailable_reason("uefi"))
        kw.setdefault("name", f"vm{len(made)}")
        vm = qemu.VM(lab, kw.pop("workdir", tmp_path / "vms"), **kw)
        made.append(vm)
        return vm

    def stop_all():
        for vm in made:
            vm.stop()
    request.addfinalizer(stop_all)
    return make


@pytest.fixture(scope="session")
def debian_kernel():
    _skip_if(bootenv.unavailable_reason())
    try:
        return bootenv.debian_kernel()
    except RuntimeError as exc:
        pytest.skip(f"cannot fetch the Debian kernel: {exc}")


@pytest.fixture(scope="session")
def agent_build(tmp_path_factory):
    """The directory with the built agent (vmlinuz, initrd.img, manifest.json)."""
    _skip_if(bootenv.unavailable_reason())
    from pureboot.agent.builder import build
    output = tmp_path_factory.mktemp("agent") / "agent"
    try:
        build(output)
    except RuntimeError as exc:
        pytest.skip(f"cannot build the agent: {exc}")
    return output
