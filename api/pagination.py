"""Cursor pagination: opaque cursors over a sort key, pages capped at 50."""

from __future__ import annotations

import base64
import json
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
