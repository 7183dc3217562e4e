"""What every input value must be before a resolver sees it, whatever the operation.

* **Text** (every string of a request: String and ID arguments, enum names, keys of input
  objects): no lone surrogates (they cannot be written as UTF-8, so the database driver and the
  JSON answer would fail on them) and no C0 control characters other than tab, line feed and
  carriage return (NUL included); variables are NFC-normalised. graphql-core reserves the
  built-in String and ID scalars (``GraphQLNamedType.reserved_types``: Strawberry's
  ``scalar_overrides`` cannot replace them), so these rules run in ``InputGuard`` over the
  operation's variables and string literals, before the variables are coerced. The stricter
  rules of free text (no bidi or zero-width characters in names ...) are the services'
  (``api.validation.Problems.text``, built on ``text_problem`` below).
* **Lists** in variables: at most ``MAX_INPUT_ITEMS`` items, refused before any item is
  coerced, so 10,000 bad items answer one error (each feature's own, smaller caps follow).
* **Dates** (``DateTime``, ``Date``): years ``MIN_YEAR``-``MAX_YEAR``, checked when the value
  is parsed (literal or variable), so no later arithmetic overflows; each field narrows its
  own window in its service (a slot within the booking horizon, a deadline within a year).

A refusal is BAD_USER_INPUT (Danish message, English for ``en``), never a traceback."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

import dateutil.parser
from graphql import GraphQLError
from graphql.language import StringValueNode, Visitor, visit
from strawberry.extensions import SchemaExtension
from strawberry.types.scalar import ScalarDefinition

from core.errors import BadUserInput

MIN_YEAR = 1900
MAX_YEAR = 2100
MAX_INPUT_ITEMS = 100  # any list in a request's variables
MAX_DATE_CHARS = 40  # "2026-05-01T10:00:00.000000+02:00" is 32
MAX_PATH_CHARS = 200  # of a path quoted in an error

# --- text ---------------------------------------------------------------------------------------
# Refused in every string of a request: lone surrogates and C0 controls but \t \n \r.
_REQUEST_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
# Bidi embeddings, overrides and isolates (LRE ... RLO, LRI ... PDI): they reorder what is
# shown around them ("Trojan Source"), so a name could display as something else.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Zero-width space, non-joiner, joiner, word joiner and the byte-order mark: invisible, so two
# names that look the same could differ.
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
_LINE_SEPARATORS = ("\r\n", "\r", "\u2028", "\u2029")


def nfc(value: str) -> str:
    return value if unicodedata.is_normalized("NFC", value) else unicodedata.normalize("NFC", value)


def request_text_ok(value: str) -> bool:
    """Whether a string may enter the API at all (see the module's text rules)."""
    return _REQUEST_FORBIDDEN.search(value) is None


def clean_lines(value: str) -> str:
    """Multi-line text with every line break as a line feed."""
    for sep in _LINE_SEPARATORS:
        value = value.replace(sep, "\n")
    return value


def text_problem(value: str, *, multiline: bool = False) -> bool:
    """Whether free text (already NFC) holds a character it may not: any control character
    (multi-line text keeps line feeds and tabs), a lone surrogate, a bidi control, and in
    single-line text a zero-width character or a line separator."""
    for ch in value:
        if multiline and ch in "\n\t":
            continue
        if ch in BIDI_CONTROLS:
            return True
        if not multiline and (ch in ZERO_WIDTH or ch in "\u2028\u2029"):
            return True
        if unicodedata.category(ch) in ("Cc", "Cs"):
            return True
    return False


# --- the guard over a request's variables and literals ------------------------------------------
def _refused(path: str, da: str, en: str) -> BadUserInput:
    path = path[:MAX_PATH_CHARS] or "input"
    return BadUserInput(
        f"{path}: {da}",
        f"{path}: {en}",
        extensions={"fields": [{"field": path, "message": da, "messageEn": en}]},
    )


def _bad_text(path: str) -> BadUserInput:
    return _refused(
        path,
        "indeholder tegn, der ikke er tilladt (styretegn eller ugyldige Unicode-tegn).",
        "contains characters that are not allowed (control or invalid Unicode characters).",
    )


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _walk(name: str, value: Any) -> Any:
    """The variable's value with every string NFC-normalised, or BadUserInput. Iterative, so
    no nesting depth can exhaust the stack (the HTTP layer bounds the depth anyway)."""
    root: list[Any] = [value]
    # (container, key, path): the slot to check and replace.
    stack: list[tuple[Any, Any, str]] = [(root, 0, "")]
    while stack:
        container, key, path = stack.pop()
        item = container[key]
        if isinstance(item, str):
            if not request_text_ok(item):
                raise _bad_text(path or name)
            container[key] = nfc(item)
        elif isinstance(item, dict):
            copy: dict[str, Any] = {}
            for k, v in item.items():
                if isinstance(k, str) and not request_text_ok(k):
                    raise _bad_text(path or name)
                copy[nfc(k) if isinstance(k, str) else k] = v
            container[key] = copy
            stack.extend((copy, k, _join(path, k)) for k in copy)
        elif isinstance(item, list):
            if len(item) > MAX_INPUT_ITEMS:
                raise _refused(
                    path or name,
                    f"højst {MAX_INPUT_ITEMS} punkter i en liste.",
                    f"{MAX_INPUT_ITEMS} items at most in a list.",
                )
            copy_list = list(item)
            container[key] = copy_list
            stack.extend((copy_list, i, _join(path, i)) for i in range(len(copy_list)))
    return root[0]


class _StringLiterals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.bad = False

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> Any:
        if not request_text_ok(node.value):
            self.bad = True
            return self.BREAK
        return None


def _literals_ok(document: Any) -> bool:
    finder = _StringLiterals()
    visit(document, finder)
    return not finder.bad


class InputGuard(SchemaExtension):
    """The text and list rules above, for every operation (HTTP and websocket), before its
    variables are coerced."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        variables = ctx.variables
        if variables:
            if not isinstance(variables, dict):
                raise _refused("variables", "skal være et objekt.", "must be an object.")
            for name in variables:
                if not isinstance(name, str) or not request_text_ok(name):
                    raise _bad_text("variables")
            ctx.variables = {name: _walk(name, value) for name, value in variables.items()}
        # A literal holds a forbidden character as it is (the lexer lets control characters
        # through in strings and comments) or through a backslash-u escape: only then are the
        # literals themselves read.
        query = ctx.query or ""
        document = ctx.graphql_document
        if not request_text_ok(query) or (
            "\\u" in query and document is not None and not _literals_ok(document)
        ):
            raise _bad_text("query")
        yield


# --- dates --------------------------------------------------------------------------------------
class InputValueError(GraphQLError):
    """A scalar value that cannot be used. A literal's error is presented as its
    ``BadUserInput`` (BAD_USER_INPUT, Danish or English); a variable's as graphql-core's
    invalid-variable error (BAD_USER_INPUT with the English text in ``extensions.detail``)."""

    def __init__(self, da: str, en: str) -> None:
        super().__init__(en, original_error=BadUserInput(da, en))


def _date_window_error(kind_da: str, kind_en: str) -> InputValueError:
    return InputValueError(
        f"{kind_da} skal ligge mellem år {MIN_YEAR} og {MAX_YEAR}.",
        f"A {kind_en} must lie between the years {MIN_YEAR} and {MAX_YEAR}.",
    )


def _text_value(value: object, kind_da: str, kind_en: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_DATE_CHARS or not value.isascii():
        raise InputValueError(
            f"{kind_da} skal skrives som ISO 8601-tekst.", f"A {kind_en} must be ISO 8601 text."
        )
    return value


def parse_datetime(value: object) -> dt.datetime:
    text = _text_value(value, "Et tidspunkt", "date and time")
    try:
        parsed = dateutil.parser.isoparse(text)
    except (ValueError, OverflowError):
        raise InputValueError(
            "Tidspunktet er ikke gyldigt (ISO 8601, fx 2026-05-01T10:00:00+02:00).",
            "The date and time is not valid (ISO 8601, e.g. 2026-05-01T10:00:00+02:00).",
        ) from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise _date_window_error("Et tidspunkt", "date and time")
    return parsed


def parse_date(value: object) -> dt.date:
    text = _text_value(value, "En dato", "date")
    try:
        parsed = dt.date.fromisoformat(text)
    except ValueError:
        raise InputValueError(
            "Datoen er ikke gyldig (ÅÅÅÅ-MM-DD).", "The date is not valid (YYYY-MM-DD)."
        ) from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise _date_window_error("En dato", "date")
    return parsed


def _isoformat(value: Any) -> str:
    return value.isoformat()


# Same names and descriptions as Strawberry's own, so the schema text does not change.
DATETIME = ScalarDefinition(
    name="DateTime",
    description="Date with time (isoformat)",
    specified_by_url=None,
    serialize=_isoformat,
    parse_value=parse_datetime,
    parse_literal=None,
    origin=dt.datetime,
)
DATE = ScalarDefinition(
    name="Date",
    description="Date (isoformat)",
    specified_by_url=None,
    serialize=_isoformat,
    parse_value=parse_date,
    parse_literal=None,
    origin=dt.date,
)
SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {dt.datetime: DATETIME, dt.date: DATE}
