"""Request limits: what a request may be before any GraphQL work is done on it.

On HTTP (``BodyLimit`` and :func:`decode_body`, used by api/router.py):

* the body is at most ``max_body_bytes``: a larger Content-Length is refused before a byte is
  read, and a body sent without one (chunked) is read only up to the limit, so a 50 MB body is
  never held in memory. HTTP 413, PAYLOAD_TOO_LARGE;
* it is UTF-8 JSON (RFC 8259) holding one object; no number has more than ``MAX_INT_DIGITS``
  digits, no NaN or Infinity; ``variables`` and ``extensions`` nest at most
  ``max_variables_depth`` deep; no string in them is longer than ``max_string_chars``.
  HTTP 400, BAD_USER_INPUT with ``extensions.reason``.

Every refusal is a GraphQL-shaped JSON body ``{"errors": [{"message", "extensions": {"code",
"reason", "requestId"}}]}``, Danish (English for ``Accept-Language: en``).

For every operation, on HTTP and websockets alike (``OperationLimits``, a schema extension):
the rate limit (api/ratelimit.py), the variables' depth and strings again (a websocket message
is not an HTTP body), no string literal in the document longer than ``max_string_chars``, the
document's size and cost (api/cost.py) before graphql-core validates it, and caches of parsed
and validated documents that keep only the app's registered operations and documents of at
most ``cached_document_max_chars`` (an unbounded document cache let forty 2 MB documents pin
155 MB; issue 16, H2)."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError, StringValueNode, Visitor, visit
from graphql.language.visitor import BREAK
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from core.errors import BadUserInput, DomainError, ErrorCode
from core.logging import new_request_id
from core.settings import Settings

from .context import locale_from_header
from .cost import Analysis, Limits, analyse
from .ratelimit import RateLimiter

MAX_INT_DIGITS = 40  # any number in a request body; an Int is 10 digits, a Float's exponent few


class RequestRefused(Exception):
    """A request refused before it reached GraphQL: its HTTP status and the error to show."""

    def __init__(
        self, status: int, error: DomainError, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(error.message_en)
        self.status = status
        self.error = error
        self.headers = headers or {}


def _bad_body(reason: str, da: str, en: str, **extra: Any) -> RequestRefused:
    return RequestRefused(400, BadUserInput(da, en, extensions={"reason": reason, **extra}))


def too_large(max_bytes: int) -> RequestRefused:
    return RequestRefused(
        413,
        DomainError(
            f"Forespørgslen er for stor (højst {max_bytes} bytes).",
            f"The request is too large (at most {max_bytes} bytes).",
            code=ErrorCode.PAYLOAD_TOO_LARGE,
            extensions={"maxBytes": max_bytes},
        ),
    )


def string_too_long(where: str, max_chars: int) -> BadUserInput:
    return BadUserInput(
        f"En tekst i {where} er for lang (højst {max_chars} tegn).",
        f"A string in the {where} is too long (at most {max_chars} characters).",
        extensions={"reason": "STRING_TOO_LONG", "maxLength": max_chars},
    )


def too_deep(max_depth: int) -> BadUserInput:
    return BadUserInput(
        f"variables er indlejret for dybt (højst {max_depth} niveauer).",
        f"The variables are nested too deeply (at most {max_depth} levels).",
        extensions={"reason": "TOO_DEEP", "maxDepth": max_depth},
    )


def refusal_body(error: DomainError, locale: str, request_id: str) -> dict:
    """The GraphQL-shaped body of a request refused outside execution (no ``data``)."""
    extensions = {"code": error.code.value, **error.extra_extensions, "requestId": request_id}
    return {"errors": [{"message": error.message(locale), "extensions": extensions}]}


def refusal_response(refused: RequestRefused, request: Request | Scope) -> Response:
    scope = request.scope if isinstance(request, Request) else request
    headers = dict(scope.get("headers") or [])
    locale = locale_from_header(headers.get(b"accept-language", b"").decode("latin-1"))
    rid = (scope.get("state") or {}).get("request_id") or new_request_id()
    return JSONResponse(
        refusal_body(refused.error, locale, rid), status_code=refused.status,
        headers=refused.headers,
    )  # fmt: skip


# Strawberry's own refusals (cross_web.HTTPException), by the start of their English reason.
_STRAWBERRY_REFUSALS = (
    ("No GraphQL query", "Forespørgslen indeholder ingen GraphQL-operation (query)."),
    ("Unsupported content type", "Forespørgslen skal sendes som application/json."),
    ("GraphQL only supports", "Kun GET og POST kan bruges."),
    ("Method Not Allowed", "Kun GET og POST kan bruges."),
    ("mutations are not allowed", "Mutationer skal sendes med POST."),
    ("subscriptions are not allowed", "Abonnementer skal bruge websocket (graphql-transport-ws)."),
    ("Can't get GraphQL operation type", "Dokumentet har flere operationer: angiv operationName."),
    ("Unknown operation named", "Operationen (operationName) findes ikke i dokumentet."),
    ("Batching", "Send én operation ad gangen."),
    ("Not Found", "Siden findes ikke."),
    ("The GraphQL operation's", "query skal være tekst; variables og extensions objekter."),
)


def strawberry_refusal(status: int, reason: str) -> RequestRefused:
    """One of Strawberry's refusals (no query, a mutation over GET ...) as ours: its status,
    BAD_USER_INPUT, a Danish message (its English one for ``en``)."""
    danish = next((da for start, da in _STRAWBERRY_REFUSALS if reason.startswith(start)),
                  "Forespørgslen kan ikke bruges.")  # fmt: skip
    error = BadUserInput(danish, reason, extensions={"reason": "BAD_REQUEST"})
    return RequestRefused(status, error)


# --- the HTTP body ------------------------------------------------------------------------------
class BodyLimit:
    """Reads a GraphQL HTTP request's body up to ``max_body_bytes`` and hands it on whole, or
    answers 413 without reading (or keeping) the rest."""

    def __init__(self, app: ASGIApp, *, settings: Settings, path: str) -> None:
        self.app = app
        self.settings = settings
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != self.path or scope.get("method") in (
            "GET", "HEAD", "OPTIONS",
        ):  # fmt: skip
            await self.app(scope, receive, send)
            return
        limit = self.settings.max_body_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await refusal_response(too_large(limit), scope)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                chunks.clear()
                await refusal_response(too_large(limit), scope)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as servers do

        await self.app(scope, replay, send)


class _NumberTooLong(Exception):
    pass


def _bounded_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise _NumberTooLong
    return int(text)


def _bounded_float(text: str) -> float:
    if len(text) > MAX_INT_DIGITS * 2:
        raise _NumberTooLong
    return float(text)


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity, -Infinity are not JSON


def check_json_value(value: object, *, max_depth: int, max_chars: int, where: str) -> None:
    """Refuse (BadUserInput) a JSON value nested deeper than ``max_depth`` or holding a string
    (or object key) longer than ``max_chars``. Iterative: any depth is safe to look at."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if len(item) > max_chars:
                raise string_too_long(where, max_chars)
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise too_deep(max_depth)
            if isinstance(item, dict):
                for key, inner in item.items():
                    if len(key) > max_chars:
                        raise string_too_long(where, max_chars)
                    stack.append((inner, depth + 1))
            else:
                stack.extend((inner, depth + 1) for inner in item)


def decode_body(data: str | bytes, settings: Settings) -> dict:
    """A GraphQL request body (or GET's ``variables``/``extensions`` parameter) as JSON, or
    RequestRefused (400) saying what is wrong with it."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _bad_body(
                "INVALID_UTF8",
                "Forespørgslen er ikke gyldig UTF-8.",
                "The request is not valid UTF-8.",
            ) from None
    try:
        value = json.loads(
            data, parse_int=_bounded_int, parse_float=_bounded_float, parse_constant=_no_constant
        )
    except _NumberTooLong:
        raise _bad_body(
            "NUMBER_TOO_LONG",
            f"Et tal i forespørgslen har mere end {MAX_INT_DIGITS} cifre.",
            f"A number in the request has more than {MAX_INT_DIGITS} digits.",
        ) from None
    except RecursionError:
        raise RequestRefused(400, too_deep(settings.max_variables_depth)) from None
    except ValueError:  # JSONDecodeError, NaN/Infinity, a lone surrogate's neighbours ...
        raise _bad_body(
            "INVALID_JSON", "Forespørgslen er ikke gyldig JSON.", "The request is not valid JSON."
        ) from None
    return value  # type: ignore[no-any-return]


def check_request_object(value: object, settings: Settings) -> dict:
    """The decoded body must be one object; its variables and extensions bounded."""
    if not isinstance(value, dict):
        raise _bad_body(
            "NOT_AN_OBJECT",
            'Forespørgslen skal være ét JSON-objekt: {"query": ..., "variables": {...}}.',
            'The request must be one JSON object: {"query": ..., "variables": {...}}.',
        )
    for name in ("variables", "extensions"):
        inner = value.get(name)
        if inner is not None:
            try:
                check_json_value(
                    inner, max_depth=settings.max_variables_depth,
                    max_chars=settings.max_string_chars, where=name,
                )  # fmt: skip
            except BadUserInput as e:
                raise RequestRefused(400, e) from None
    return value


# --- every operation: the schema extension ------------------------------------------------------
class _LongString(Visitor):
    def __init__(self, max_chars: int) -> None:
        super().__init__()
        self.max_chars = max_chars
        self.found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        if len(node.value) > self.max_chars:
            self.found = True
            return BREAK
        return None


def _refusal(error: DomainError, context: Any) -> GraphQLError:
    """A refusal of this module as a GraphQL error, carrying the request id like every
    refusal made before the operation runs."""
    rid = getattr(context, "request_id", None)
    if rid is not None:
        error.extra_extensions = {**error.extra_extensions, "requestId": rid}
    return GraphQLError(error.message_en, original_error=error)


class _Lru(OrderedDict):
    def __init__(self, maxsize: int) -> None:
        super().__init__()
        self.maxsize = maxsize

    def get_fresh(self, key: str) -> Any:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def put(self, key: str, value: Any) -> None:
        if self.maxsize <= 0:
            return
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.maxsize:
            self.popitem(last=False)


class DocumentLimits:
    """What the operations of one schema share: the document caches and the rate limiter."""

    def __init__(
        self, settings: Settings, *, registered: Callable[[str], bool] | None = None
    ) -> None:
        self.settings = settings
        self.limits = Limits(
            max_repeated_fields=settings.max_repeated_fields,
            max_query_cost=settings.max_query_cost,
        )
        self.registered = registered or (lambda _text: False)
        self.parsed = _Lru(settings.parser_cache_size)
        self.validated = _Lru(settings.validation_cache_size)
        self.rate_limiter = RateLimiter(settings)

    def cacheable(self, query: str) -> bool:
        return len(query) <= self.settings.cached_document_max_chars or self.registered(query)

    def extension(self) -> OperationLimits:
        return OperationLimits(self)


def rate_limited_response(
    limits: DocumentLimits, context: Any, request: Request
) -> Response | None:
    """HTTP 429 at once, before the body is read, when the caller's bucket is empty (the same
    check runs again for every operation, websockets included, in ``OperationLimits``)."""
    limiter = limits.rate_limiter
    limited = limiter.check(limiter.key(*_caller(context)))
    if limited is None:
        return None
    wait = str(limited.extra_extensions["retryAfter"])
    return refusal_response(RequestRefused(429, limited, {"Retry-After": wait}), request)


def _caller(context: Any) -> tuple[str | None, str | None]:
    """(signed-in user id, client address) of a request's or socket's context."""
    auth = getattr(context, "auth", None)
    actor = getattr(auth, "actor", None)
    request = getattr(context, "request", None)
    client = getattr(request, "client", None)
    return (getattr(actor, "id", None), getattr(client, "host", None))


def _copy(error: GraphQLError) -> GraphQLError:
    """A cached validation error, fresh for this request (errors are presented in place)."""
    return GraphQLError(
        error.message, error.nodes, error.source, error.positions, error.path,
        error.original_error, dict(error.extensions or {}),
    )  # fmt: skip


class OperationLimits(SchemaExtension):
    """Per operation (HTTP and websocket): the checks in this module's docstring. Built by
    ``DocumentLimits.extension`` for every operation, so nothing of one request is kept on it."""

    def __init__(self, shared: DocumentLimits) -> None:
        super().__init__()
        self.shared = shared

    def _throttle(self, refusal: DomainError) -> None:
        """Say Retry-After on the HTTP response too (HTTP 429)."""
        response = getattr(self.execution_context.context, "response", None)
        if isinstance(response, Response):
            response.status_code = 429
            response.headers["Retry-After"] = str(refusal.extra_extensions["retryAfter"])

    # Refusals are set as the operation's pre-execution errors in on_validate, never raised from
    # a hook: Strawberry's subscription path does not catch what a hook raises.
    def on_parse(self) -> Iterator[None]:
        """The cached document when there is one; Strawberry parses the others (and answers
        their syntax errors), and a cacheable one is kept afterwards."""
        ctx = self.execution_context
        query = ctx.query
        cacheable = bool(query) and ctx.graphql_document is None and self.shared.cacheable(query)
        if cacheable:
            ctx.graphql_document = self.shared.parsed.get_fresh(query)
        yield
        if cacheable and ctx.graphql_document is not None:
            self.shared.parsed.put(query, ctx.graphql_document)

    def _refusal_before_validation(self, document: DocumentNode) -> GraphQLError | None:
        ctx = self.execution_context
        shared = self.shared
        settings = shared.settings
        limiter = shared.rate_limiter
        key = limiter.key(*_caller(ctx.context))
        limited = limiter.check(key)
        if limited is not None:
            self._throttle(limited)
            return _refusal(limited, ctx.context)
        try:
            if ctx.variables:
                check_json_value(
                    ctx.variables, max_depth=settings.max_variables_depth,
                    max_chars=settings.max_string_chars, where="variables",
                )  # fmt: skip
            query = ctx.query or ""
            if len(query) > settings.max_string_chars:
                long = _LongString(settings.max_string_chars)
                visit(document, long)
                if long.found:
                    raise string_too_long("query", settings.max_string_chars)
        except BadUserInput as e:
            return _refusal(e, ctx.context)
        analysis: Analysis = analyse(document, ctx.schema._schema, ctx.variables, shared.limits)
        if analysis.refusal is not None:
            limiter.penalise(key)
            return _refusal(analysis.refusal, ctx.context)
        limited = limiter.charge(key, limiter.price(key, analysis.cost, analysis.fields))
        if limited is not None:
            self._throttle(limited)
            return _refusal(limited, ctx.context)
        if (spread := analysis.unknown_fragment) is not None:
            # graphql-core's KnownFragmentNamesRule's words (GRAPHQL_VALIDATION_FAILED)
            return GraphQLError(f"Unknown fragment '{spread.name.value}'.", spread)
        return None

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        shared = self.shared
        document: DocumentNode | None = ctx.graphql_document
        if document is None or ctx.pre_execution_errors is not None:
            yield
            return
        refusal = self._refusal_before_validation(document)
        if refusal is not None:
            ctx.pre_execution_errors = [refusal]
            yield
            return
        query = ctx.query or ""
        cacheable = bool(query) and shared.cacheable(query)
        cached = shared.validated.get_fresh(query) if cacheable else None
        if cached is None:
            errors = validate_document(ctx.schema._schema, document, ctx.validation_rules)
            if cacheable:
                shared.validated.put(query, tuple(_copy(e) for e in errors))
        else:
            errors = [_copy(e) for e in cached]
        ctx.pre_execution_errors = list(errors)
        yield
