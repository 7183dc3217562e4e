"""Rate limits by query cost: token buckets, one per signed-in user and one per client address.

Every GraphQL operation (HTTP and websocket ``subscribe`` alike) is charged its cost
(api/cost.py) before graphql-core validates it:

* a **signed-in** caller pays from their own bucket (``rate_limit_user_points``, refilled at
  ``rate_limit_user_refill_per_s``), never from their address's: a job centre's network or a
  mobile carrier puts thousands of citizens behind one address, and the e2e suite drives many
  users from 127.0.0.1;
* an **unsigned** caller (no token, or one that was refused) pays from its address's bucket
  (``rate_limit_address_*``; IPv6 by /64, which one subscriber usually holds whole). Nothing
  runs unsigned but sign-in errors and, in local mode, introspection, so an unsigned request
  costs ``UNSIGNED_REQUEST_POINTS`` plus the fields of its document: what it costs the server
  to read it.

A document refused as too complex costs a fifth of ``max_query_cost`` (1,000 points by
default: more than any of the app's operations with its normal variables), taken even from an
empty bucket (which then owes them), so a client that keeps sending such documents has each
further one parsed only every 20 s (unsigned) and is refused as RATE_LIMITED, before parsing,
in between. A caller whose bucket lacks the points gets
RATE_LIMITED (HTTP 429 on HTTP) with ``extensions.retryAfter`` and the Retry-After header: the
seconds until the bucket holds enough again.

The buckets live in this process (bounded: the least recently used are dropped beyond
``MAX_BUCKETS``, and a dropped bucket comes back full). Behind a load balancer each API
process keeps its own, so a caller's real allowance is the per-process one times the number
of processes its requests are spread over."""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import RateLimited
from core.settings import Settings

MAX_BUCKETS = 100_000
UNSIGNED_REQUEST_POINTS = 20


@dataclass
class _Bucket:
    points: float
    at: float


class TokenBuckets:
    """Buckets of ``capacity`` points refilled at ``refill_per_s``, by key."""

    def __init__(
        self,
        capacity: float,
        refill_per_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = MAX_BUCKETS,
    ) -> None:
        self.capacity = float(capacity)
        self.refill_per_s = float(refill_per_s)
        self.clock = clock
        self.max_buckets = max_buckets
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def _bucket(self, key: str) -> _Bucket:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
            while len(self._buckets) > self.max_buckets:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.points = min(
                self.capacity, bucket.points + (now - bucket.at) * self.refill_per_s
            )
            bucket.at = now
        return bucket

    def _wait_s(self, bucket: _Bucket, points: float) -> int:
        if self.refill_per_s <= 0:
            return 3600
        return max(1, math.ceil((points - bucket.points) / self.refill_per_s))

    def retry_after(self, key: str, points: float = 1.0) -> int | None:
        """Seconds until ``points`` are in the bucket; None when they are now."""
        bucket = self._bucket(key)
        points = min(points, self.capacity)
        return None if bucket.points >= points else self._wait_s(bucket, points)

    def take(self, key: str, points: float) -> int | None:
        """Take ``points`` (at most the bucket's size): None, or the seconds to wait first."""
        bucket = self._bucket(key)
        points = min(points, self.capacity)
        if bucket.points >= points:
            bucket.points -= points
            return None
        return self._wait_s(bucket, points)

    def drain(self, key: str, points: float) -> None:
        """Take ``points`` whatever is left (a refused document's price): the bucket may go
        into debt, down to minus its size, and refills from there."""
        bucket = self._bucket(key)
        bucket.points = max(-self.capacity, bucket.points - points)

    def __len__(self) -> int:
        return len(self._buckets)


def address_key(host: str | None) -> str:
    """The bucket of a client address: the address itself, an IPv6 one by its /64."""
    if not host:
        return "addr:-"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return f"addr:{host[:64]}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"addr:{ip.ipv4_mapped}"
        return f"addr:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"addr:{ip}"


def rate_limited(retry_after_s: int) -> RateLimited:
    return RateLimited(
        f"Du har sendt for mange forespørgsler. Prøv igen om {retry_after_s} sekunder.",
        f"You have sent too many requests. Please try again in {retry_after_s} seconds.",
        extensions={"reason": "RATE_LIMIT", "retryAfter": retry_after_s},
    )


class RateLimiter:
    """The user and address buckets of one API process (see the module's docstring)."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic):
        self.enabled = settings.rate_limits
        self.max_query_cost = settings.max_query_cost
        # A bucket smaller than the largest document allowed would refuse that one for ever.
        self.users = TokenBuckets(
            max(settings.rate_limit_user_points, settings.max_query_cost),
            settings.rate_limit_user_refill_per_s,
            clock=clock,
        )
        self.addresses = TokenBuckets(
            max(settings.rate_limit_address_points, settings.max_query_cost),
            settings.rate_limit_address_refill_per_s,
            clock=clock,
        )

    @staticmethod
    def key(user_id: str | None, host: str | None) -> str:
        return f"user:{user_id}" if user_id else address_key(host)

    def _buckets(self, key: str) -> TokenBuckets:
        return self.users if key.startswith("user:") else self.addresses

    @staticmethod
    def price(key: str, cost: int, fields: int) -> int:
        """What one operation costs its caller: its cost when signed in (at least 1); unsigned,
        a fixed price plus its fields (nothing but sign-in errors runs unsigned)."""
        if key.startswith("user:"):
            return max(1, cost)
        return UNSIGNED_REQUEST_POINTS + fields

    def check(self, key: str) -> RateLimited | None:
        """Refused before anything else when the bucket is empty."""
        if not self.enabled:
            return None
        wait = self._buckets(key).retry_after(key, 1.0)
        return None if wait is None else rate_limited(wait)

    def charge(self, key: str, points: int) -> RateLimited | None:
        if not self.enabled:
            return None
        wait = self._buckets(key).take(key, points)
        return None if wait is None else rate_limited(wait)

    def penalise(self, key: str) -> None:
        """A document refused as too complex costs a fifth of the largest one allowed."""
        if self.enabled:
            self._buckets(key).drain(key, self.max_query_cost // 5)
