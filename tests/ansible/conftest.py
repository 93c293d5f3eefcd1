"""Fixtures: a live controller per test module and an Ansible runner pointed at it."""

from __future__ import annotations

import pytest

from .harness import Ansible, Controller


@pytest.fixture(scope="module")
def controller(tmp_path_factory):
    server = Controller(tmp_path_factory.mktemp("controller")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ansible(controller, tmp_path_factory):
    return Ansible(tmp_path_factory.mktemp("ansible"), controller)
