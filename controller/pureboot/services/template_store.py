"""Template files on disk: streamed in with sha256 and size computed on the way."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import Invalid, PureBootError

CHUNK = 1024 * 1024
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class PayloadTooLarge(PureBootError):
    status, title = 413, "Payload Too Large"


@dataclass(frozen=True)
class StoredFile:
    path: Path
    sha256: str
    size: int


def safe_filename(name: str | None, fallback: str) -> str:
    cleaned = _SAFE_NAME.sub("_", os.path.basename(name or "")).strip("._")
    # the fallback is built from user-supplied name/version: clean it too (it ends up in headers)
    return cleaned[:200] or _SAFE_NAME.sub("_", fallback).strip("._")[:200] or "template"


class TemplateStore:
    """Files live at <root>/<template id>/<filename>; uploads land in <root>/.incoming."""

    def __init__(self, root: Path, max_bytes: int):
        self.root = root
        self.max_bytes = max_bytes

    def path_for(self, template_id: int, filename: str) -> Path:
        return self.root / str(template_id) / filename

    def receive(self, stream: BinaryIO, template_id: int, filename: str,
                expected_sha256: str | None = None) -> StoredFile:
        """Copy `stream` into place, hashing as it goes; nothing is left behind on error."""
        incoming = self.root / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=incoming)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise PayloadTooLarge(f"upload exceeds the limit of {self.max_bytes} bytes")
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise Invalid("the upload is empty", errors={"file": ["no content"]})
            sha = digest.hexdigest()
            if expected_sha256 and expected_sha256.lower() != sha:
                raise Invalid("checksum mismatch: the upload is not what was declared",
                              errors={"sha256": [f"declared {expected_sha256.lower()}, received {sha}"]})
            final = self.path_for(template_id, filename)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
            return StoredFile(final, sha, size)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def delete(self, template_id: int) -> None:
        folder = self.root / str(template_id)
        if folder.is_dir():
            for item in folder.iterdir():
                item.unlink()
            folder.rmdir()
