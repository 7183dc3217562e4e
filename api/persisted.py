"""Persisted operations and Automatic Persisted Queries (APQ).

The app's operations are listed in ``mobile_contract/persisted-queries.json`` (generated from
``mobile_contract/operations/``). A client may send only ``extensions.persistedQuery``
(``{"version": 1, "sha256Hash": ...}``) instead of the text, on HTTP POST, HTTP GET and in a
websocket ``subscribe`` message alike (api/router.py applies :func:`resolve` to all three).
With ``JOBUNIVERS_PERSISTED_QUERIES_ONLY`` the server runs only registered operations.

Standard clients (Apollo Kotlin, Apollo iOS, Apollo Client, gql) hash the text *they* send,
which differs from the file: comments dropped, re-printed, ``__typename`` added. So a
registered operation is known by more than its file's hash: by the hash of its printed form
(what gql and graphql-js ``print`` send, so a hash-only first request finds it), and by its
canonical form (parsed, ``__typename`` selections dropped, each definition printed, sorted).
The APQ handshake covers the rest: a hash the server does not know answers
``PersistedQueryNotFound``; the client sends text and hash together; the server checks the hash,
checks (in persisted-only mode) that the text is a registered operation, remembers the hash and
runs it. Remembered hashes live in this process (bounded): another instance just asks again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    parse,
    print_ast,
    visit,
)
from graphql.language.visitor import REMOVE

from core.errors import ErrorCode
from core.settings import PROJECT_ROOT

CONTRACT_DIR = PROJECT_ROOT / "mobile_contract"
MANIFEST_PATH = CONTRACT_DIR / "persisted-queries.json"

APQ_VERSION = 1
LEARNED_LIMIT = 2048  # remembered client hashes per process
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def sha256_hex(document: str) -> str:
    # "surrogatepass": a lone surrogate (JSON "\ud800") has a hash too; the parser refuses it.
    return hashlib.sha256(document.encode("utf-8", "surrogatepass")).hexdigest()


class _DropTypename(Visitor):
    def enter_field(self, node: FieldNode, *_: Any) -> Any:
        if node.name.value == "__typename" and not node.alias and not node.directives:
            return REMOVE
        return None


def _fragments_used(definition: Any, fragments: dict[str, FragmentDefinitionNode]) -> list[str]:
    """Names of the fragments ``definition`` spreads, directly or through other fragments."""
    found: list[str] = []
    todo = [definition]
    while todo:
        node = todo.pop()
        stack = [node.selection_set]
        while stack:
            selection_set: SelectionSetNode | None = stack.pop()
            for sel in selection_set.selections if selection_set else ():
                if isinstance(sel, FragmentSpreadNode):
                    name = sel.name.value
                    if name not in found and name in fragments:
                        found.append(name)
                        todo.append(fragments[name])
                else:
                    stack.append(getattr(sel, "selection_set", None))
    return found


def canonical(document: DocumentNode) -> str:
    """The document as the server compares it: ``__typename`` dropped, each definition printed
    on its own (no comments, one layout), in name order."""
    stripped = visit(document, _DropTypename())
    return "\n".join(sorted(print_ast(d) for d in stripped.definitions))


def _one_operation_documents(document: DocumentNode) -> list[DocumentNode]:
    """Each operation of ``document`` with the fragments it uses: what a client sends for it."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    out = []
    for d in document.definitions:
        if isinstance(d, OperationDefinitionNode):
            used = _fragments_used(d, fragments)
            out.append(DocumentNode(definitions=(d, *(fragments[n] for n in used))))
    return out


@dataclass(frozen=True)
class Refusal:
    """Why an operation is not run: the error code and the message in Danish and English."""

    code: ErrorCode
    message_da: str
    message_en: str

    def error(self, locale: str | None) -> GraphQLError:
        if self.code is ErrorCode.PERSISTED_QUERY_NOT_FOUND:
            # Clients retry with the text on exactly this message (the APQ protocol), so it is
            # not translated; the explanation goes alongside.
            message = "PersistedQueryNotFound"
            extensions = {
                "code": self.code.value,
                "detail": self.message_en if locale == "en" else self.message_da,
            }
        else:
            message = self.message_en if locale == "en" else self.message_da
            extensions = {"code": self.code.value}
        return GraphQLError(message, extensions=extensions)


NOT_FOUND = Refusal(
    ErrorCode.PERSISTED_QUERY_NOT_FOUND,
    "Serveren kender ikke operationens sha256Hash. Send teksten med.",
    "The server does not know this operation's sha256Hash. Send the text with it.",
)
REQUIRED = Refusal(
    ErrorCode.PERSISTED_QUERY_REQUIRED,
    "Serveren tager kun imod kendte operationer (mobile_contract/operations/).",
    "The server only accepts known operations (mobile_contract/operations/).",
)
HASH_MISMATCH = Refusal(
    ErrorCode.BAD_USER_INPUT,
    "Operationens sha256Hash passer ikke med dens tekst.",
    "The operation's sha256Hash does not match its text.",
)
BAD_EXTENSION = Refusal(
    ErrorCode.BAD_USER_INPUT,
    'extensions.persistedQuery skal være {"version": 1, "sha256Hash": "<64 hex-tegn>"}.',
    'extensions.persistedQuery must be {"version": 1, "sha256Hash": "<64 hex digits>"}.',
)


class PersistedQueries:
    """The registered operations, and the APQ texts clients taught this process. A client's
    text longer than ``learn_max_chars`` is run but not remembered (unless registered), so
    clients cannot fill memory with large documents."""

    def __init__(
        self, documents_by_hash: dict[str, str], *, learn_max_chars: int | None = None
    ) -> None:
        self.learn_max_chars = learn_max_chars
        self._by_hash: dict[str, str] = {}
        self._canonical: set[str] = set()
        self._learned: OrderedDict[str, str] = OrderedDict()  # hash -> text, sent by clients
        self._variants: OrderedDict[str, None] = OrderedDict()  # hashes of registered texts
        self._registered = len(documents_by_hash)
        for sha, document in documents_by_hash.items():
            self._by_hash[sha] = document
            try:
                parsed = parse(document, no_location=True)
            except GraphQLError:
                continue
            self._canonical.add(canonical(parsed))
            for variant in (parsed, *_one_operation_documents(parsed)):
                self._canonical.add(canonical(variant))
                self._by_hash.setdefault(sha256_hex(print_ast(variant)), print_ast(variant))

    @classmethod
    def load(
        cls, path: Path = MANIFEST_PATH, *, learn_max_chars: int | None = None
    ) -> PersistedQueries:
        if not path.exists():
            return cls({}, learn_max_chars=learn_max_chars)
        data = json.loads(path.read_text(encoding="utf-8"))
        documents = {entry["sha256"]: entry["document"] for entry in data["operations"]}
        return cls(documents, learn_max_chars=learn_max_chars)

    def registered(self, document: str) -> bool:
        """Whether ``document`` is known as registered without parsing it: a registered text,
        or one :meth:`knows` has matched to a registered operation before."""
        sha = sha256_hex(document)
        return sha in self._by_hash or sha in self._variants

    def get(self, sha256: str) -> str | None:
        """The text for a hash: a registered one, or one a client sent with it before."""
        document = self._by_hash.get(sha256)
        if document is None and (document := self._learned.get(sha256)) is not None:
            self._learned.move_to_end(sha256)
        return document

    def knows(self, document: str) -> bool:
        """Whether ``document`` is a registered operation (the file's text, or the same
        operation as a standard client sends it)."""
        sha = sha256_hex(document)
        if sha in self._by_hash or sha in self._variants:
            return True
        try:
            parsed = parse(document, no_location=True, max_tokens=10_000)
        except GraphQLError:
            return False
        if canonical(parsed) not in self._canonical:
            return False
        self._variants[sha] = None  # so the next request with this text skips the parse
        while len(self._variants) > LEARNED_LIMIT:
            self._variants.popitem(last=False)
        return True

    def learn(self, sha256: str, document: str) -> None:
        if sha256 in self._by_hash:
            return
        limit = self.learn_max_chars
        if limit is not None and len(document) > limit and not self.registered(document):
            return  # run, not remembered: the client sends the text again next time
        self._learned[sha256] = document
        self._learned.move_to_end(sha256)
        while len(self._learned) > LEARNED_LIMIT:
            self._learned.popitem(last=False)

    def resolve(
        self, query: str | None, extensions: object, *, persisted_only: bool
    ) -> str | Refusal | None:
        """The text to run for a request (``query`` and ``extensions`` as the client sent them),
        or why not. ``None``: no text and no hash (left to the GraphQL server to answer)."""
        pq = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if pq is not None:
            sha = pq.get("sha256Hash") if isinstance(pq, dict) else None
            version = pq.get("version", APQ_VERSION) if isinstance(pq, dict) else None
            if version != APQ_VERSION or not isinstance(sha, str) or not _SHA256.match(sha):
                return BAD_EXTENSION
            if not query:
                return self.get(sha) or NOT_FOUND
            if sha256_hex(query) != sha:
                return HASH_MISMATCH
            if persisted_only and not self.knows(query):
                return REQUIRED
            self.learn(sha, query)
            return query
        if persisted_only and query and not self.knows(query):
            return REQUIRED
        return query

    def __len__(self) -> int:
        return self._registered
