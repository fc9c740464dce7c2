"""bot.limits: fixed-window counters per client address in the shared cache."""

from bot import limits


def test_each_kind_and_address_counts_on_its_own_up_to_the_limit(settings):
    settings.RATE_LIMITS = True
    assert [limits.address_allows("message", "203.0.113.7", per_minute=3) for _ in range(5)] == [True] * 3 + [False] * 2
    assert limits.address_allows("message", "198.51.100.1", per_minute=3)
    assert limits.address_allows("connect", "203.0.113.7", per_minute=3)


def test_a_new_window_starts_from_zero(settings, monkeypatch):
    settings.RATE_LIMITS = True
    now = [1_000_000.0]
    monkeypatch.setattr(limits.time, "time", lambda: now[0])
    assert limits.address_allows("message", "203.0.113.7", per_minute=1)
    assert not limits.address_allows("message", "203.0.113.7", per_minute=1)
    now[0] += limits.WINDOW_SECONDS
    assert limits.address_allows("message", "203.0.113.7", per_minute=1)


def test_rate_limits_off_lets_everything_through(settings):
    settings.RATE_LIMITS = False
    assert all(limits.address_allows("message", "203.0.113.7", per_minute=1) for _ in range(10))


def test_an_unreachable_cache_lets_the_event_through(settings, monkeypatch):
    settings.RATE_LIMITS = True

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(limits.cache, "add", down)
    assert limits.address_allows("message", "203.0.113.7", per_minute=0)
