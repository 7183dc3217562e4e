"""The app's operations, driven as an app developer drives them: each document is read from
`mobile_contract/operations/<Name>.graphql`, checked against the published
`mobile_contract/schema.graphql` and sent with gql's standard transports (HTTPX for queries and
mutations, graphql-transport-ws for subscriptions), never with a hand-written request."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.exceptions import (
    TransportClosed,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport
from graphql import (
    DocumentNode,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    parse,
    validate,
)

CONTRACT = Path(__file__).resolve().parents[2] / "mobile_contract"
OPERATIONS = CONTRACT / "operations"

# Every operation sent in this test session (the terminal summary lists the ones not sent).
EXERCISED: set[str] = set()


def operation_names() -> list[str]:
    return sorted(p.stem for p in OPERATIONS.glob("*.graphql"))


@cache
def document(name: str) -> str:
    path = OPERATIONS / f"{name}.graphql"
    assert path.exists(), f"no operation file {path.name} in mobile_contract/operations/"
    return path.read_text(encoding="utf-8")


@cache
def parsed(name: str) -> DocumentNode:
    return parse(document(name))


@cache
def checked(name: str) -> DocumentNode:
    """The document, validated once against the published schema (as an app's code
    generator validates it), so a request the contract does not allow fails here."""
    problems = validate(contract_schema(), parsed(name))
    assert not problems, f"{name}.graphql does not fit mobile_contract/schema.graphql: {problems}"
    return parsed(name)


def operation_kind(name: str) -> str:
    """query, mutation or subscription."""
    ops = [d for d in parsed(name).definitions if isinstance(d, OperationDefinitionNode)]
    assert len(ops) == 1, f"{name}.graphql must hold exactly one operation"
    assert ops[0].name and ops[0].name.value == name, f"{name}.graphql names another operation"
    return ops[0].operation.value


@cache
def contract_schema() -> GraphQLSchema:
    """The published contract: gql validates every document against it before sending."""
    return build_schema((CONTRACT / "schema.graphql").read_text(encoding="utf-8"))


@dataclass
class Result:
    name: str
    data: dict | None
    errors: list[dict] = field(default_factory=list)

    @property
    def codes(self) -> list[str | None]:
        return [(e.get("extensions") or {}).get("code") for e in self.errors]

    @property
    def code(self) -> str | None:
        return self.codes[0] if self.errors else None

    def ok(self) -> dict:
        """The data; fails the test with the errors if there are any."""
        assert not self.errors, f"{self.name} answered errors: {self.errors}"
        assert self.data is not None, f"{self.name} answered no data"
        return self.data

    def internal_errors(self) -> list[dict]:
        """Errors a client cannot act on: INTERNAL_SERVER_ERROR, or no code at all."""
        return [
            e
            for e in self.errors
            if (e.get("extensions") or {}).get("code") in (None, "INTERNAL_SERVER_ERROR")
        ]


class Api:
    """One running server, reached as a phone app reaches it: one HTTP session (kept open, as
    an app keeps its connection), each request with the caller's Authorization header."""

    def __init__(self, graphql_url: str, ws_url: str) -> None:
        self.graphql_url = graphql_url
        self.ws_url = ws_url
        self._client: Client | None = None
        self._session: Any = None

    async def _http(self) -> Any:
        if self._session is None:
            # Plain http on 127.0.0.1: verify=False spares loading a CA bundle.
            transport = HTTPXAsyncTransport(url=self.graphql_url, timeout=60, verify=False)
            self._client = Client(transport=transport, execute_timeout=60)
            self._session = await self._client.connect_async()
        return self._session

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close_async()
            self._client = self._session = None

    async def run(
        self,
        name: str,
        token: str | None,
        variables: dict[str, Any] | None = None,
        *,
        locale: str = "da",
    ) -> Result:
        kind = operation_kind(name)
        assert kind != "subscription", f"{name} is a subscription: use subscribe()"
        EXERCISED.add(name)
        headers = {"Accept-Language": locale}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        session = await self._http()
        request = GraphQLRequest(checked(name), variable_values=variables or None)
        try:
            result = await session.execute(
                request, get_execution_result=True, extra_args={"headers": headers}
            )
        except TransportQueryError as e:
            return Result(name, e.data, list(e.errors or []))
        except TransportServerError as e:
            return Result(
                name, None, [{"message": str(e), "extensions": {"code": f"HTTP_{e.code}"}}]
            )
        return Result(name, result.data, list(result.errors or []))

    @contextlib.asynccontextmanager
    async def subscribe(
        self,
        name: str,
        token: str,
        variables: dict[str, Any] | None = None,
        *,
        settle_s: float = 1.0,
    ) -> AsyncIterator[Subscription]:
        """A live subscription over graphql-transport-ws, authenticated as the app does it:
        the token in the connection_init payload. Events collect in the background."""
        assert operation_kind(name) == "subscription", f"{name} is not a subscription"
        EXERCISED.add(name)
        transport = WebsocketsTransport(
            url=self.ws_url,
            init_payload={"authorization": f"Bearer {token}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            connect_timeout=30,
            ack_timeout=30,
        )
        client = Client(transport=transport)
        sub = Subscription(name)
        async with client as session:
            request = GraphQLRequest(checked(name), variable_values=variables or None)

            async def pump() -> None:
                try:
                    async for result in session.subscribe(request, get_execution_result=True):
                        sub.events.put_nowait(Result(name, result.data, list(result.errors or [])))
                except TransportQueryError as e:
                    sub.events.put_nowait(Result(name, e.data, list(e.errors or [])))
                except (TransportClosed, asyncio.CancelledError):
                    pass

            task = asyncio.create_task(pump())
            # The server has no "subscribed" message in graphql-transport-ws: give it a moment
            # to start following before the test triggers the change.
            await asyncio.sleep(settle_s)
            try:
                yield sub
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


class Subscription:
    def __init__(self, name: str) -> None:
        self.name = name
        self.events: asyncio.Queue[Result] = asyncio.Queue()
        self.received: list[Result] = []

    async def wait_for(self, predicate: Callable[[dict], bool], timeout_s: float = 15.0) -> dict:
        """The first event's data matching ``predicate``; fails after ``timeout_s``."""
        for seen in self.received:
            if seen.data and predicate(seen.data):
                return seen.data
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(
                    f"no matching {self.name} event within {timeout_s} s; got "
                    f"{[r.data or r.errors for r in self.received]}"
                )
            try:
                event = await asyncio.wait_for(self.events.get(), left)
            except TimeoutError:
                continue
            self.received.append(event)
            assert not event.errors, f"{self.name} event with errors: {event.errors}"
            if event.data and predicate(event.data):
                return event.data
