"""Cursor pagination: opaque cursors over a sort key, pages capped at 50."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

import strawberry

from core.errors import BadUserInput

MAX_PAGE_SIZE = 50
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


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list):
        raise BadUserInput("Ugyldig cursor (after).", "Invalid cursor (after).")
    return key


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
    key = decode_cursor(after)
    if key is None:
        return None
    try:
        at, doc_id = key
        return datetime.fromisoformat(at), str(doc_id)
    except (TypeError, ValueError):
        raise BadUserInput("Ugyldig cursor (after).", "Invalid cursor (after).") from None


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
