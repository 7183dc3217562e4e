"""Cursor pagination: opaque cursors over a sort key, pages capped at 50.

A cursor is URL-safe base64 of a short JSON list. Whatever a client sends as ``after`` (not
base64, not JSON, deep nesting, huge numbers, the wrong shape, a date outside the window) is
BAD_USER_INPUT with ``extensions.reason`` INVALID_CURSOR, before anything is read."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import strawberry

from api.scalars import MAX_YEAR, MIN_YEAR
from core.errors import BadUserInput

MAX_PAGE_SIZE = 50
MAX_CURSOR_CHARS = 512  # ours are under 200
MAX_CURSOR_KEY_CHARS = 300  # any one string inside a cursor
T = TypeVar("T")


def check_first(first: int) -> int:
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(
            f"first skal være mellem 1 og {MAX_PAGE_SIZE}.",
            f"first must be between 1 and {MAX_PAGE_SIZE}.",
        )
    return first


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, ensure_ascii=False).encode()).decode()


def invalid_cursor() -> BadUserInput:
    return BadUserInput(
        "Ugyldig cursor (after). Brug endCursor fra den forrige side.",
        "Invalid cursor (after). Use endCursor from the previous page.",
        extensions={
            "reason": "INVALID_CURSOR",
            "fields": [
                {"field": "after", "message": "ugyldig cursor.", "messageEn": "invalid cursor."}
            ],
        },
    )


def decode_cursor(cursor: str | None) -> list[Any] | None:
    """The key inside a cursor (a JSON list), or BAD_USER_INPUT / INVALID_CURSOR."""
    if cursor is None:
        return None
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
        raise invalid_cursor()
    try:
        raw = base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True)
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise invalid_cursor() from None
    if not isinstance(key, list):
        raise invalid_cursor()
    return key


def decode_key(cursor: str | None, shape: tuple[type, ...]) -> list[Any] | None:
    """A cursor's key with exactly these item types (``int`` never a bool, each string short),
    or BAD_USER_INPUT / INVALID_CURSOR."""
    key = decode_cursor(cursor)
    if key is None:
        return None
    if len(key) != len(shape):
        raise invalid_cursor()
    for item, kind in zip(key, shape, strict=True):
        if type(item) is not kind:
            raise invalid_cursor()
        if kind is str and len(item) > MAX_CURSOR_KEY_CHARS:
            raise invalid_cursor()
    return key


def decode_offset(cursor: str | None, limit: int = 10_000) -> int:
    """The offset after an offset cursor (``[index]``), 0 without one."""
    key = decode_key(cursor, (int,))
    if key is None:
        return 0
    if not 0 <= key[0] < limit:
        raise invalid_cursor()
    return key[0] + 1


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


def decode_time_cursor(after: str | None) -> tuple[datetime, str] | None:
    """The (time, id) key of a newest-first page, from an opaque cursor."""
    key = decode_key(after, (str, str))
    if key is None:
        return None
    at, doc_id = key
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        raise invalid_cursor() from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # ours always carry one; the database reads UTC
    if not MIN_YEAR <= when.year <= MAX_YEAR:
        raise invalid_cursor()
    return when, doc_id


def time_connection(
    docs: list[dict], first: int, sort_field: str, node: Callable[[dict], Any]
) -> tuple[list[tuple[str, Any]], PageInfo]:
    """Edges (cursor, node) and page info from ``first + 1`` newest-first documents."""
    page = docs[:first]
    edges = [(encode_cursor([d[sort_field].isoformat(), d["_id"]]), node(d)) for d in page]
    return edges, PageInfo(
        has_next_page=len(docs) > first, end_cursor=edges[-1][0] if edges else None
    )


def time_page(
    connection: type, edge: type, docs: list[dict], first: int, sort_field: str,
    node: Callable[[dict], Any], **extra: Any,
) -> Any:  # fmt: skip
    """A newest-first connection object of the given GraphQL types."""
    edges, page_info = time_connection(docs, first, sort_field, node)
    return connection(
        edges=[edge(cursor=c, node=n) for c, n in edges], page_info=page_info, **extra
    )
