"""Redis, shared by every gateway replica: rate-limit windows and revoked sessions.

Redis being away must not take the API down: counting then answers None and the caller
lets the request through (logged); a revoked session is then looked up in PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from frontdesk.gateway.domain.edge import Count, Limit

log = logging.getLogger(__name__)

# One round trip for every window of a request: count it, start the window on the first
# request, and tell how long the window has left.
_COUNT = """
local out = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if count == 1 or ttl < 0 then
    redis.call('PEXPIRE', key, ARGV[i])
    ttl = tonumber(ARGV[i])
  end
  out[#out + 1] = count
  out[#out + 1] = ttl
end
return out
"""


class RedisGate:
    def __init__(self, url: str, prefix: str) -> None:
        self.client = aioredis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=30
        )
        self.prefix = prefix
        self._count = self.client.register_script(_COUNT)

    def _window(self, limit: Limit) -> str:
        return f"{self.prefix}rl:{limit.name}:{limit.key}"

    def _revoked(self, session_id: str) -> str:
        return f"{self.prefix}revoked:{session_id}"

    async def admit(
        self, limits: Sequence[Limit], session_id: str | None
    ) -> tuple[list[Count] | None, bool | None]:
        """Counts of this request in each window, and whether its session was revoked
        (None where Redis could not tell)."""
        if not limits and session_id is None:
            return [], False
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                if limits:
                    await self._count(
                        keys=[self._window(limit) for limit in limits],
                        args=[limit.window * 1000 for limit in limits],
                        client=pipe,
                    )
                if session_id is not None:
                    pipe.exists(self._revoked(session_id))
                results = await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("redis unavailable for rate limits and revocations: %r", error)
            return None, None
        counts: list[Count] = []
        if limits:
            raw = results[0]
            counts = [
                Count(limit, int(raw[2 * i]), int(raw[2 * i + 1])) for i, limit in enumerate(limits)
            ]
        revoked = bool(results[-1]) if session_id is not None else False
        return counts, revoked

    async def revoke(self, session_ids: Iterable[str], ttl_seconds: int) -> bool:
        """Refuse the access tokens of these sessions until they have expired anyway."""
        ids = list(session_ids)
        if not ids:
            return True
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for session_id in ids:
                    pipe.set(self._revoked(session_id), b"1", ex=ttl_seconds)
                await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("redis unavailable to record revoked sessions: %r", error)
            return False
        return True

    async def close(self) -> None:
        await self.client.aclose()
