"""Persisted operations ("trusted documents") and Automatic Persisted Queries.

Three ways to name a document instead of (or besides) sending its text:
- ``documentId`` (GraphQL over HTTP's trusted documents; ``sha256:<hex>`` or a plain id) or Relay's ``id``:
  looked up in the manifest only;
- Apollo's APQ, ``extensions.persistedQuery = {version: 1, sha256Hash}``: a hash alone is looked up in the
  manifest, then among documents registered at run time; a hash with its query registers it (after checking
  the hash) unless allow-list mode is on;
- plain ``query`` text: in allow-list mode it must be the text of a manifest document.

The manifest is a JSON object ``{id: document}``, the format of GraphQL Codegen's client-preset
``persisted-documents.json`` (ids are SHA-256 hex of the document) and of relay-compiler's persisted queries
file. Registered APQ documents live in PostgreSQL (table ``persisted_query``) so every app process knows them.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from core.database import Database
from models import PersistedQuery

log = logging.getLogger(__name__)

T_PERSISTED = PersistedQuery.__table__
MAX_DOCUMENT_BYTES = 100_000
CACHE_SIZE = 2048


class PersistedQueryError(Exception):
    """A persisted-operation request that cannot run; ``code`` goes to ``extensions.code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Resolved:
    query: str
    document_id: str | None  # the manifest id when the document is a registered one


_OTHER_DIGESTS = {32: "an MD5 digest", 40: "a SHA-1 digest"}  # (other tools' defaults; hex ids of these sizes)


def load_manifest(path: Path | None) -> dict[str, str]:
    """``{id: document}`` from ``path``; ids that look like SHA-256 must match their document."""
    if path is None or not path.is_file():
        return {}
    raw = orjson.loads(path.read_bytes())
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise ValueError(f"{path}: a persisted-documents manifest is a JSON object of id -> document")
    for key, document in raw.items():
        bare = key.removeprefix("sha256:")
        hexadecimal = all(c in "0123456789abcdef" for c in bare.lower())
        if hexadecimal and len(bare) in _OTHER_DIGESTS:
            raise ValueError(
                f"{path}: id {key} looks like {_OTHER_DIGESTS[len(bare)]}: ids are SHA-256 (GraphQL Codegen: "
                'persistedDocuments: { hashAlgorithm: "sha256" }; relay-compiler: persistConfig.algorithm "SHA256")'
            )
        if key.startswith("sha256:") and not (hexadecimal and len(bare) == 64):
            raise ValueError(f"{path}: id {key} is not sha256: and 64 hex digits")
        if len(bare) == 64 and hexadecimal and bare.lower() != sha256_hex(document):
            raise ValueError(f"{path}: id {key} is not the SHA-256 of its document")
    return {key.removeprefix("sha256:"): document for key, document in raw.items()}


class PersistedDocuments:
    """The process's view of registered documents (the manifest plus APQ registrations)."""

    def __init__(self, manifest: dict[str, str], *, allow_list: bool) -> None:
        self.manifest = manifest
        self.allow_list = allow_list
        self._by_text = {document: key for key, document in manifest.items()}
        self._apq_cache: OrderedDict[str, str] = OrderedDict()

    def manifest_id(self, query: str) -> str | None:
        return self._by_text.get(query)

    def manifest_id_of(self, request: dict[str, Any]) -> str | None:
        """The manifest id a request names (documentId, id, an APQ hash or the text itself), if any."""
        named = request.get("documentId") or request.get("id")
        if isinstance(named, str):
            key = named.removeprefix("sha256:")
            return key if key in self.manifest else None
        extensions = request.get("extensions")
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        query = request.get("query")
        if isinstance(persisted, dict):
            digest = str(persisted.get("sha256Hash", "")).lower()
            if digest in self.manifest and (query is None or query == self.manifest[digest]):
                return digest
            return None
        return self._by_text.get(query) if isinstance(query, str) else None

    async def resolve(
        self, db: Database | None, *, query: str | None, extensions: dict[str, Any] | None, document_id: Any
    ) -> Resolved | None:
        """The document to run; None when the request names none (the caller then reports a missing query). An
        empty ``query`` is none: graphql-ws's client must send a string beside ``documentId`` or an APQ hash."""
        if query == "":
            query = None
        if document_id is not None:
            return self._from_manifest(document_id)
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is not None:
            return await self._apq(db, query, persisted)
        if query is None:
            return None
        known = self._by_text.get(query)
        if self.allow_list and known is None:
            raise PersistedQueryError(
                "PERSISTED_QUERY_REQUIRED", "Only registered operations run on this server; send a documentId."
            )
        return Resolved(query, known)

    def _from_manifest(self, document_id: Any) -> Resolved:
        key = str(document_id).removeprefix("sha256:")
        document = self.manifest.get(key)
        if document is None:
            raise PersistedQueryError("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
        return Resolved(document, key)

    async def _apq(self, db: Database | None, query: str | None, persisted: Any) -> Resolved:
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise PersistedQueryError("PERSISTED_QUERY_INVALID", "Unsupported persistedQuery version.")
        digest = str(persisted.get("sha256Hash", "")).lower()
        if len(digest) != 64:
            raise PersistedQueryError("PERSISTED_QUERY_INVALID", "persistedQuery.sha256Hash must be 64 hex digits.")
        if query is not None:
            if sha256_hex(query) != digest:
                raise PersistedQueryError("PERSISTED_QUERY_HASH_MISMATCH", "provided sha does not match query")
            if digest in self.manifest:
                return Resolved(query, digest)
            if self.allow_list:
                raise PersistedQueryError("PERSISTED_QUERY_NOT_ALLOWED", "Only registered operations run here.")
            if len(query.encode()) > MAX_DOCUMENT_BYTES:
                raise PersistedQueryError("PERSISTED_QUERY_INVALID", "The document is too large to register.")
            await self._register(db, digest, query)
            return Resolved(query, None)
        if digest in self.manifest:
            return Resolved(self.manifest[digest], digest)
        if not self.allow_list:
            document = await self._registered(db, digest)
            if document is not None:
                return Resolved(document, None)
        raise PersistedQueryError("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")

    async def _register(self, db: Database | None, digest: str, query: str) -> None:
        self._remember(digest, query)
        if db is None:
            return
        async with db.transaction() as session:
            await session.execute(insert(T_PERSISTED).values(sha256=digest, document=query).on_conflict_do_nothing())

    async def _registered(self, db: Database | None, digest: str) -> str | None:
        cached = self._apq_cache.get(digest)
        if cached is not None:
            self._apq_cache.move_to_end(digest)
            return cached
        if db is None:
            return None
        async with db.session() as session:
            document = await session.scalar(select(T_PERSISTED.c.document).where(T_PERSISTED.c.sha256 == digest))
        if document is not None:
            self._remember(digest, document)
        return document

    def _remember(self, digest: str, document: str) -> None:
        self._apq_cache[digest] = document
        self._apq_cache.move_to_end(digest)
        while len(self._apq_cache) > CACHE_SIZE:
            self._apq_cache.popitem(last=False)
