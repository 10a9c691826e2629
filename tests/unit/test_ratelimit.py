"""The token buckets of server/ratelimit.py, on an injected clock."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from server.auth import RecentKeys
from server.ratelimit import TokenBuckets, rate_limit_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_allows_the_burst_then_refuses() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=5, burst=10, clock=clock)
    assert [buckets.take("k") for _ in range(10)] == [0.0] * 10
    wait = buckets.take("k")
    assert wait == pytest.approx(0.2)  # one token at 5 a second


def test_tokens_come_back_at_the_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=5, burst=10, clock=clock)
    for _ in range(10):
        buckets.take("k")
    clock.now += 0.2
    assert buckets.take("k") == 0.0
    assert buckets.take("k") > 0
    clock.now += 1.0  # five more
    assert [buckets.take("k") for _ in range(5)] == [0.0] * 5
    assert buckets.take("k") > 0


def test_refusals_do_not_take_tokens() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=1, burst=1, clock=clock)
    assert buckets.take("k") == 0.0
    for _ in range(50):
        assert buckets.take("k") > 0
    clock.now += 1.0
    assert buckets.take("k") == 0.0


def test_the_bucket_never_holds_more_than_the_burst() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=10, burst=3, clock=clock)
    buckets.take("k")
    clock.now += 3600
    assert [buckets.take("k") for _ in range(3)] == [0.0] * 3
    assert buckets.take("k") == pytest.approx(0.1)


def test_keys_have_their_own_buckets() -> None:
    buckets = TokenBuckets(rate=1, burst=2, clock=Clock())
    assert buckets.take("a") == buckets.take("a") == 0.0
    assert buckets.take("a") > 0
    assert buckets.take("b") == 0.0


def test_slow_rates_wait_long() -> None:
    buckets = TokenBuckets(rate=10 / 60, burst=1, clock=Clock())  # 10/m
    buckets.take("k")
    assert buckets.take("k") == pytest.approx(6.0)


def test_idle_buckets_are_forgotten_when_there_are_too_many_keys() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=1, burst=2, clock=clock, max_keys=3)
    for key in "abc":
        buckets.take(key)
    clock.now += 10  # all refilled
    buckets.take("d")
    assert len(buckets) == 1
    # Active keys are kept as long as there is room, then the oldest go.
    for key in "efg":
        buckets.take(key)
    assert len(buckets) <= 3


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_nonsense_configuration_is_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        TokenBuckets(rate=rate, burst=burst)


def test_key_is_the_principal_name_else_the_address() -> None:
    principal = SimpleNamespace(name="reporting-key")
    assert rate_limit_key({"state": {"principal": principal}, "client": ("10.0.0.1", 5)}) == (
        "principal:reporting-key"
    )
    assert rate_limit_key({"state": {}, "client": ("10.0.0.1", 5)}) == "address:10.0.0.1"
    assert rate_limit_key({"client": None}) == "address:unknown"
    # A principal named like an address does not share the address's bucket.
    spoof = SimpleNamespace(name="10.0.0.1")
    assert rate_limit_key({"state": {"principal": spoof}, "client": ("10.0.0.1", 5)}) != (
        rate_limit_key({"state": {}, "client": ("10.0.0.1", 5)})
    )


def test_a_token_given_back_is_there_again_but_never_past_the_burst() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=1 / 60, burst=2, clock=clock)
    assert buckets.take("k") == buckets.take("k") == 0.0
    assert buckets.take("k") > 0
    buckets.give_back("k")
    assert buckets.take("k") == 0.0
    assert buckets.take("k") > 0
    for _ in range(5):
        buckets.give_back("k")
    assert [buckets.take("k") for _ in range(2)] == [0.0, 0.0]
    assert buckets.take("k") > 0
    buckets.give_back("never-seen")  # nothing to give back to: no bucket is made
    assert len(buckets) == 1


def test_recent_keys_are_bounded_dropping_the_least_recently_used() -> None:
    recent = RecentKeys(size=3)
    for digest in "abc":
        recent.add(digest)
    recent.add("a")  # used again: now the most recent
    recent.add("d")
    assert len(recent) == 3
    assert "b" not in recent and all(d in recent for d in "acd")
    recent.discard("a")
    recent.discard("zz")
    assert "a" not in recent and len(recent) == 2
