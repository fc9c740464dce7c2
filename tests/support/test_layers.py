"""support.layers.RedisChannelLayer against a real Redis: the same deliveries as channels_redis's
own layer (it can talk to one), in fewer round trips, and group_send_except.

Skipped without REDIS_URL; under CI (REQUIRE_REAL_STACK=1) they must run.
"""

import asyncio
import uuid

import pytest
from channels_redis.core import RedisChannelLayer as StockLayer
from django.conf import settings

from support.layers import RedisChannelLayer

pytestmark = [pytest.mark.realstack]


@pytest.fixture
def layers(require_real_stack):
    """Ours and channels_redis's, on one fresh prefix (nothing else's keys are touched)."""
    config = _config(f"test-layers-{uuid.uuid4().hex[:8]}")
    ours, stock = RedisChannelLayer(**config), StockLayer(**config)
    yield ours, stock
    asyncio.run(_close(ours, stock))


def _config(prefix: str, **more) -> dict:
    return {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "prefix": prefix, **more}


async def _close(*layers):
    for layer in layers:
        await layer.flush()
        await layer.close_pools()


async def _received(layer, channel, timeout=3.0):
    return await asyncio.wait_for(layer.receive(channel), timeout)


async def _nothing_for(layer, channel, wait=0.3) -> bool:
    try:
        await asyncio.wait_for(layer.receive(channel), wait)
    except asyncio.TimeoutError:
        return True
    return False


def test_a_group_send_reaches_every_member_as_the_stock_layer_does(layers):
    ours, stock = layers

    async def scenario():
        # One socket of each kind: a process-local channel of each layer, and a plain channel.
        a, b, plain = await ours.new_channel(), await stock.new_channel(), "plain.channel"
        for channel in (a, b, plain):
            await ours.group_add("room", channel)
        message = {"type": "frame.push", "frame": {"type": "message", "id": 7, "text": "Ünïcode ✓"}}
        await ours.group_send("room", message)
        got = [await _received(ours, a), await _received(stock, b), await _received(stock, plain)]
        assert got == [message, message, message]
        # And the other way round: the stock layer's sends reach our layer's sockets.
        await stock.group_send("room", {"type": "frame.push", "n": 2})
        assert await _received(ours, a) == {"type": "frame.push", "n": 2}

    asyncio.run(scenario())


def test_group_send_except_leaves_out_one_channel_only(layers):
    ours, _ = layers

    async def scenario():
        mine, other_tab = await ours.new_channel(), await ours.new_channel()
        for channel in (mine, other_tab):
            await ours.group_add("conversation.x", channel)
        await ours.group_send_except("conversation.x", {"type": "frame.push", "n": 1}, mine)
        assert await _received(ours, other_tab) == {"type": "frame.push", "n": 1}
        assert await _nothing_for(ours, mine)
        # Alone in the group: nothing is sent at all, and nothing fails.
        await ours.group_discard("conversation.x", other_tab)
        await ours.group_send_except("conversation.x", {"type": "frame.push", "n": 2}, mine)
        assert await _nothing_for(ours, mine)
        await ours.group_send("nobody.here", {"type": "frame.push"})  # an empty group

    asyncio.run(scenario())


def test_a_full_channel_drops_the_group_message_and_others_still_get_it(layers):
    ours, _ = layers
    small = RedisChannelLayer(**_config(ours.prefix, channel_capacity={"full.*": 1}))  # its keys go with the fixture's flush

    async def scenario():
        full, fine = "full.channel", "fine.channel"
        for channel in (full, fine):
            await small.group_add("room", channel)
        await small.group_send("room", {"type": "frame.push", "n": 1})
        await small.group_send("room", {"type": "frame.push", "n": 2})  # over capacity for `full`
        assert await _received(small, full) == {"type": "frame.push", "n": 1}
        assert await _nothing_for(small, full)
        assert [await _received(small, fine), await _received(small, fine)] == [
            {"type": "frame.push", "n": 1}, {"type": "frame.push", "n": 2}
        ]
        await small.close_pools()

    asyncio.run(scenario())


def test_a_group_send_takes_two_round_trips_and_an_empty_group_one(layers):
    ours, _ = layers
    calls = []

    async def scenario():
        channel = await ours.new_channel()
        await ours.group_add("room", channel)
        # Count what reaches Redis: each pipeline or single command is one round trip.
        from redis.asyncio.client import Pipeline, Redis

        execute_command, pipeline_execute = Redis.execute_command, Pipeline.execute

        async def counted_command(self, *args, **kwargs):
            calls.append(args[0])
            return await execute_command(self, *args, **kwargs)

        async def counted_pipeline(self, *args, **kwargs):
            calls.append("pipeline")
            return await pipeline_execute(self, *args, **kwargs)

        Redis.execute_command, Pipeline.execute = counted_command, counted_pipeline
        try:
            await ours.group_send("room", {"type": "frame.push"})
            sent = list(calls)
            calls.clear()
            await ours.group_send("nobody.here", {"type": "frame.push"})
            empty = list(calls)
        finally:
            Redis.execute_command, Pipeline.execute = execute_command, pipeline_execute
        assert sent == ["pipeline", "EVAL"] and empty == ["pipeline"]
        assert await _received(ours, channel) == {"type": "frame.push"}

    asyncio.run(scenario())
