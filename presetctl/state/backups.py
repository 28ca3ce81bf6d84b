"""Content-addressed store of original file bytes, checked by SHA-256 on every read.

Two layouts: single blobs ``backups/ab/abcdef...`` named by their hash, and packs
``backups/packs/NAME.pack`` holding the originals of a batch of files back to back (one fsync
for the whole batch instead of two per file); the journal records where in a pack each
original is. Both are written atomically (temporary file, fsync, rename), so a crash leaves
either nothing or a whole file; ``get`` checks the hash before anything is restored.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path

from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.errors import StateError
from presetctl.fsutil import atomic_write


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BackupStore:
    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self.fsync = fsync

    def _blob(self, digest: str) -> Path:
        return self.root / digest[:2] / digest

    def put(self, data: bytes, digest: str | None = None) -> str:
        """Store ``data`` (once per content) and return its SHA-256."""
        digest = digest or sha256(data)
        blob = self._blob(digest)
        if blob.is_file() and blob.stat().st_size == len(data):
            return digest
        blob.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(blob, data, fsync=self.fsync, mode=0o600)
        return digest

    def put_pack(self, blobs: Mapping[str, bytes]) -> dict[str, list[str | int]]:
        """Store several originals in one pack; returns digest -> [pack name, offset, length]."""
        name = secrets.token_hex(8) + ".pack"
        where: dict[str, list[str | int]] = {}
        parts: list[bytes] = []
        offset = 0
        for digest, data in blobs.items():
            where[digest] = [name, offset, len(data)]
            parts.append(data)
            offset += len(data)
        folder = self.root / "packs"
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / name, b"".join(parts), fsync=self.fsync, mode=0o600)
        return where

    def get(self, digest: str, where: Sequence[str | int] | None = None) -> bytes:
        """The original with this hash; ``where`` is its place in a pack, from the journal."""
        try:
            if where is not None and len(where) == 3:
                name, offset, length = str(where[0]), int(where[1]), int(where[2])
                with open(self.root / "packs" / Path(name).name, "rb") as fh:
                    fh.seek(offset)
                    data = fh.read(length)
            else:
                data = self._blob(digest).read_bytes()
        except (OSError, ValueError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise StateError(f"backup {digest[:12]} is missing from {self.root}: {why}",
                             code=ErrorCode.BACKUP_DAMAGED) from None
        if sha256(data) != digest:
            raise StateError(f"backup {digest[:12]} in {self.root} is damaged (hash mismatch)",
                             code=ErrorCode.BACKUP_DAMAGED)
        return data
