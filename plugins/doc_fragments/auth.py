# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Connection and authentication options of every module that talks to the controller."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the PureBoot controller, for example V(https://pureboot.example.com:8080).
      - If not set, the E(PUREBOOT_URL) environment variable is used.
    type: str
    required: true
  token:
    description:
      - "API token, sent as C(Authorization: Bearer <token>)."
      - If not set, the E(PUREBOOT_TOKEN) environment variable is used.
      - Takes precedence over O(username) and O(password).
    type: str
  username:
    description:
      - User to log in as; the module exchanges O(username) and O(password) for a token
        at C(POST /api/v1/auth/token).
      - If not set, the E(PUREBOOT_USERNAME) environment variable is used.
    type: str
  password:
    description:
      - Password of O(username).
      - If not set, the E(PUREBOOT_PASSWORD) environment variable is used.
    type: str
  validate_certs:
    description:
      - Whether to verify the controller's TLS certificate.
      - If not set, the E(PUREBOOT_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM CA bundle to verify the controller's certificate with, for example the
        C(<data_dir>/tls/self-signed.crt) of C(pureboot serve --tls-self-signed).
      - If not set, the E(PUREBOOT_CA_PATH) environment variable is used; else the system store.
    type: path
  timeout:
    description:
      - Seconds to wait for each API request.
    type: int
    default: 30
notes:
  - All modules using this fragment are in the C(group/pureboot.pureboot.pureboot) action group,
    so the connection options can be set once with C(module_defaults).
"""
