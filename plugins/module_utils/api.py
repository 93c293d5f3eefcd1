# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One client for the PureBoot controller API, shared by modules and plugins.

Built on ``ansible.module_utils.urls.open_url`` so targets need nothing beyond
ansible-core. Lists are AWX-style envelopes ``{count, next, previous, results}``;
:meth:`PureBootClient.list` follows ``next`` until the end. Errors are the
controller's JSON shape ``{code, status, message, errors}`` and surface as
:class:`PureBootAPIError` with a readable message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible.module_utils.basic import AnsibleModule, env_fallback
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urljoin
from ansible.module_utils.urls import open_url

API_PREFIX = "/api/v1/"
PAGE_SIZE = 200  # the controller's maximum

AUTH_ARGSPEC = dict(
    url=dict(type="str", required=True, fallback=(env_fallback, ["PUREBOOT_URL"])),
    token=dict(type="str", no_log=True, fallback=(env_fallback, ["PUREBOOT_TOKEN"])),
    username=dict(type="str", fallback=(env_fallback, ["PUREBOOT_USERNAME"])),
    password=dict(type="str", no_log=True, fallback=(env_fallback, ["PUREBOOT_PASSWORD"])),
    validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["PUREBOOT_VALIDATE_CERTS"])),
    ca_path=dict(type="path", fallback=(env_fallback, ["PUREBOOT_CA_PATH"])),
    timeout=dict(type="int", default=30),
)


class PureBootAPIError(Exception):
    """A failed API call: HTTP status (0 when the server was not reached) and the body."""

    def __init__(self, message, status=0, errors=None, body=None):
        super(PureBootAPIError, self).__init__(message)
        self.message = message
        self.status = status
        self.errors = errors
        self.body = body


def _error_from_http(method, url, exc):
    raw = b""
    try:
        raw = exc.read() or b""
    except Exception:  # the body is a courtesy; the status is what matters
        pass
    try:
        body = json.loads(raw.decode("utf-8"))
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        detail = body["message"]
        errors = body.get("errors")
    else:
        detail = raw.decode("utf-8", "replace")[:300] or str(exc.reason)
        errors = None
    message = "%s %s failed: HTTP %s: %s" % (method, url, exc.code, detail)
    if errors:
        message += " (%s)" % json.dumps(errors, sort_keys=True)
    return PureBootAPIError(message, status=exc.code, errors=errors, body=body)


class PureBootClient:
    """Talks to one controller. Authenticates lazily, once."""

    def __init__(self, url, token=None, username=None, password=None, validate_certs=True, timeout=30,
                 ca_path=None):
        if not url:
            raise PureBootAPIError("no controller URL: set the url option or PUREBOOT_URL")
        if "://" not in url:
            url = "http://" + url
        self.base = url.rstrip("/") + "/"
        self.token = token
        self.username = username
        self.password = password
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self._authenticated = bool(token) or not (username and password)

    # -- plumbing ---------------------------------------------------------------------

    def url_for(self, path, query=None):
        """Absolute URL of an API path (``nodes/3``) or of a server path (``/api/v1/...``)."""
        if path.startswith("http://") or path.startswith("https://"):
            url = path
        elif path.startswith("/"):
            # Links the controller returns ("next") are server paths; a URL with a path
            # prefix (behind a proxy) keeps that prefix for /api/v1/... paths.
            url = self.base + path.lstrip("/") if path.startswith(API_PREFIX) else urljoin(self.base, path)
        else:
            url = self.base + API_PREFIX.lstrip("/") + path
        if query:
            items = [(k, v) for k, v in sorted(query.items()) if v is not None]
            if items:
                url += ("&" if "?" in url else "?") + urlencode(items)
        return url

    def _open(self, method, url, data=None, headers=None):
        all_headers = {"Accept": "application/json"}
        all_headers.update(headers or {})
        if self.token:
            all_headers["Authorization"] = "Bearer %s" % self.token
        try:
            return open_url(url, data=data, headers=all_headers, method=method,
                            validate_certs=self.validate_certs, ca_path=self.ca_path, timeout=self.timeout,
                            follow_redirects="safe", http_agent="pureboot-ansible")
        except HTTPError as exc:
            raise _error_from_http(method, url, exc)
        except URLError as exc:
            hint = ""
            if "CERTIFICATE_VERIFY_FAILED" in str(exc.reason):  # the usual self-signed/private-CA case
                hint = " (set ca_path or PUREBOOT_CA_PATH to the controller's CA bundle)"
            raise PureBootAPIError("cannot reach the PureBoot controller at %s: %s%s" % (url, exc.reason, hint))
        except (OSError, ValueError) as exc:
            raise PureBootAPIError("%s %s failed: %s" % (method, url, exc))

    def _authenticate(self):
        """Exchange username/password for a bearer token (POST /api/v1/auth/token)."""
        self._authenticated = True
        try:
            body = self._call("POST", self.url_for("auth/token"),
                              {"username": self.username, "password": self.password})
        except PureBootAPIError as exc:
            if exc.status == 404:
                return  # a controller without authentication: the header is not needed
            raise PureBootAPIError("login as %s failed: %s" % (self.username, exc.message), exc.status)
        self.token = (body or {}).get("access_token")
        if not self.token:
            raise PureBootAPIError("login as %s returned no access_token" % self.username)

    def _exchange(self, method, url, payload=None, raw=None, headers=None):
        """One HTTP exchange: the decoded JSON body (None when empty) and the response's ETag."""
        data = None
        headers = dict(headers or {})
        if payload is not None:
            data = json.dumps(payload).encode("utf-8")
            headers["Content-Type"] = "application/json"
        elif raw is not None:
            data = raw
        response = self._open(method, url, data=data, headers=headers)
        etag = response.headers.get("ETag")
        text = response.read()
        if not text:
            return None, etag
        try:
            return json.loads(text.decode("utf-8")), etag
        except ValueError:
            raise PureBootAPIError("%s %s: the controller answered with something that is not JSON" % (method, url))

    def _call(self, method, url, payload=None, raw=None, headers=None):
        return self._exchange(method, url, payload, raw, headers)[0]

    def request(self, method, path, payload=None, query=None, raw=None, headers=None):
        """One call; returns the decoded JSON body (None for an empty body)."""
        if not self._authenticated:
            self._authenticate()
        return self._call(method, self.url_for(path, query), payload, raw, headers)

    def request_versioned(self, method, path, payload=None, if_match=None):
        """One call on a single object; returns ``(body, etag)``.

        With ``if_match`` (an ETag from an earlier read) the controller writes only if the
        object is still that version; otherwise it answers HTTP 412 and changes nothing.
        """
        if not self._authenticated:
            self._authenticate()
        headers = {"If-Match": if_match} if if_match else None
        return self._exchange(method, self.url_for(path), payload, headers=headers)

    # -- conveniences -----------------------------------------------------------------

    def get(self, path, query=None):
        return self.request("GET", path, query=query)

    def get_or_none(self, path, query=None):
        try:
            return self.get(path, query)
        except PureBootAPIError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, path, query=None, limit=None):
        """Every item of a list endpoint, following ``next`` links page by page."""
        query = dict(query or {})
        query.setdefault("page_size", PAGE_SIZE)
        page = self.get(path, query)
        results = list(page.get("results", []))
        while page.get("next") and (limit is None or len(results) < limit):
            page = self.get(page["next"])
            results.extend(page.get("results", []))
        return results[:limit] if limit is not None else results

    def iter_pages(self, path, query=None, workers=4):
        """Yield the pages (lists of items) of a list endpoint in order, fetching ahead.

        Page 1 tells the count; pages 2..N are requested by number (ordered by id),
        ``workers`` at a time, while the caller consumes the earlier ones.
        """
        query = dict(query or {})
        query.setdefault("page_size", PAGE_SIZE)
        query.setdefault("order_by", "id")
        first = self.get(path, query)
        results = first.get("results", [])
        yield results
        size = max(1, len(results))
        pages = -(-int(first.get("count", 0)) // size)
        if pages <= 1:
            return
        from concurrent.futures import ThreadPoolExecutor

        def fetch(number):
            return self.get(path, dict(query, page=number)).get("results", [])

        pool = ThreadPoolExecutor(max_workers=max(1, workers))
        try:
            yield from pool.map(fetch, range(2, pages + 1))
        finally:
            pool.shutdown(wait=True)

    def list_parallel(self, path, query=None, workers=4):
        """Every item of a list endpoint via :meth:`iter_pages`.

        A row created or deleted while fetching can shift the pages: duplicates are dropped.
        """
        seen, unique = set(), []
        for page in self.iter_pages(path, query, workers):
            for item in page:
                if item.get("id") not in seen:
                    seen.add(item.get("id"))
                    unique.append(item)
        return unique

    def find_one(self, path, query):
        """The single item matching a filter, or None; more than one is an error."""
        page = self.get(path, dict(query, page_size=2))
        items = page.get("results", [])
        if len(items) > 1:
            raise PureBootAPIError("more than one %s matches %s" % (path, json.dumps(query, sort_keys=True)))
        return items[0] if items else None

    def upload(self, method, path, filename, query=None):
        """Stream a file as the raw request body (never read into memory)."""
        size = os.path.getsize(filename)
        with open(filename, "rb") as handle:
            return self.request(method, path, query=query, raw=handle,
                                headers={"Content-Type": "application/octet-stream",
                                         "Content-Length": str(size)})


class PureBootModule(AnsibleModule):
    """AnsibleModule with the auth options and a ready client in ``self.client``."""

    def __init__(self, argument_spec, **kwargs):
        spec = dict(AUTH_ARGSPEC)
        spec.update(argument_spec)
        super(PureBootModule, self).__init__(argument_spec=spec, **kwargs)
        params = self.params
        try:
            self.client = PureBootClient(params["url"], params.get("token"), params.get("username"),
                                         params.get("password"), params["validate_certs"], params["timeout"],
                                         params.get("ca_path"))
        except PureBootAPIError as exc:
            self.fail_json(msg=exc.message)

    def call(self, method, path, **kwargs):
        """``client.request`` that turns an API error into fail_json."""
        try:
            return self.client.request(method, path, **kwargs)
        except PureBootAPIError as exc:
            self.fail_api(exc)

    def fail_api(self, exc):
        self.fail_json(msg=exc.message, status=exc.status, errors=exc.errors)

    def run(self, func, *args):
        """Run ``func(*args)``; any API error it raises ends the module with fail_json."""
        try:
            return func(*args)
        except PureBootAPIError as exc:
            self.fail_api(exc)


def changed_fields(current, wanted):
    """The subset of ``wanted`` (None means "not managed") that differs from ``current``."""
    return dict((key, value) for key, value in wanted.items()
                if value is not None and current.get(key) != value)
