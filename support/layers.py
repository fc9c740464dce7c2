"""The Redis channel layer, with group sends in fewer Redis round trips.

channels_redis's ``group_send`` makes four sequential round trips for a group of one socket
(expire members, list members, expire old messages, the send script) and two for an empty
group. Every chat turn pushes three group messages (the shopper's message to watching agents,
the answer to the shopper's other tabs and to watching agents), so on a busy process those
round trips are a large share of the event loop's work. This layer sends the same messages to
the same keys, in two round trips (members, then one script that expires and sends), and one
for an empty group.

``group_send_except`` leaves out one channel: the consumer that delivers an answer to its own
socket directly does not need the same frame echoed back through Redis.
"""

from __future__ import annotations

import logging
import time

from channels_redis.core import RedisChannelLayer as _RedisChannelLayer

logger = logging.getLogger(__name__)

# KEYS: the channels' Redis keys. ARGV: a message per key, a capacity per key, then the time
# and the message expiry. Old messages go first (as channels_redis does before each send).
_GROUP_SEND = """
local over_capacity = 0
local current_time = ARGV[#ARGV - 1]
local expiry = tonumber(ARGV[#ARGV])
local oldest = math.floor(tonumber(current_time)) - expiry
for i = 1, #KEYS do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, oldest)
    if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
        redis.call('ZADD', KEYS[i], current_time, ARGV[i])
        redis.call('EXPIRE', KEYS[i], expiry)
    else
        over_capacity = over_capacity + 1
    end
end
return over_capacity
"""


class RedisChannelLayer(_RedisChannelLayer):
    async def group_send(self, group, message):
        await self.group_send_except(group, message, None)

    async def group_send_except(self, group, message, channel: str | None) -> None:
        """Send `message` to every channel in `group` but `channel` (None: to all of them)."""
        assert self.require_valid_group_name(group), "Group name not valid"
        key = self._group_key(group)
        pipe = self.connection(self.consistent_hash(group)).pipeline(transaction=False)
        pipe.zremrangebyscore(key, min=0, max=int(time.time()) - self.group_expiry)
        pipe.zrange(key, 0, -1)
        _, members = await pipe.execute()
        names = [name for name in (member.decode("utf8") for member in members) if name != channel]
        if not names:
            return
        by_connection, messages, capacities = self._map_channel_keys_to_connection(names, message)
        for index, keys in by_connection.items():
            args = [messages[k] for k in keys] + [capacities[k] for k in keys] + [time.time(), int(self.expiry)]
            over_capacity = await self.connection(index).eval(_GROUP_SEND, len(keys), *keys, *args)
            if over_capacity > 0:
                logger.info("%s of %s channels over capacity in group %s", over_capacity, len(names), group)
