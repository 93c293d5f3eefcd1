"""Fixtures: a live controller per test module and an Ansible runner pointed at it."""

from __future__ import annotations

import pytest

from .harness import Ansible, Controller
from .image_server import NoController, serve


@pytest.fixture(scope="module")
def controller(tmp_path_factory):
    server = Controller(tmp_path_factory.mktemp("controller")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ansible(controller, tmp_path_factory):
    return Ansible(tmp_path_factory.mktemp("ansible"), controller)


@pytest.fixture(scope="module")
def local_ansible(tmp_path_factory):
    """An Ansible runner for playbooks that need no controller (node-side modules)."""
    return Ansible(tmp_path_factory.mktemp("ansible-local"), NoController())


@pytest.fixture
def web(tmp_path):
    """(directory, base URL, Authorization headers seen) of a loopback server of a temp dir."""
    root = tmp_path / "www"
    root.mkdir()
    with serve(root) as (url, seen):
        yield root, url, seen
