# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a module as Ansible does: a subprocess given its arguments on stdin."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import ansible_collections

COLLECTIONS_ROOT = os.path.dirname(list(ansible_collections.__path__)[0])


def run_module(name, args, check_mode=False, tmp_path=None):
    """Run plugins/modules/<name>.py as Ansible would; returns its JSON result."""
    module_args = dict(args, _ansible_check_mode=check_mode, _ansible_remote_tmp=str(tmp_path or "/tmp"),
                       _ansible_keep_remote_files=False)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([COLLECTIONS_ROOT, os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, "-m", "ansible_collections.pureboot.pureboot.plugins.modules.%s" % name],
        input=json.dumps({"ANSIBLE_MODULE_ARGS": module_args}), capture_output=True, text=True, env=env,
        timeout=300, check=False)
    try:
        return json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("no JSON from %s (rc %d): %s %s" % (name, proc.returncode, proc.stdout, proc.stderr))
