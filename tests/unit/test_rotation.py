"""The rotation engine: quota vectors, guarantees as properties, request-time view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.model import Text
from chalicelib.homepage.engine import HomepageEntry, RotationState, SlotPick, _next_seat, homepage_view, rotate

T0 = datetime(2026, 10, 16, 16, 0, tzinfo=UTC)


def apportion(votes: list[int], seats: int) -> list[int]:
    """The engine's seat step run as a plain apportionment (no per-rotation caps)."""
    order = [str(i) for i in range(len(votes))]
    weights = dict(zip(order, votes, strict=True))
    held = dict.fromkeys(order, 0)
    room = dict.fromkeys(order, seats)
    for house in range(seats):
        winner = _next_seat(order, weights, held, house, sum(votes), room)
        held[winner] += 1
    return [held[k] for k in order]


def entry(cid: str, weight: int, n: int, pinned: int = 0, start=T0, end=None) -> HomepageEntry:
    picks = tuple(SlotPick(cid, f"{cid}-{i:02d}", Text({"zh-CN": f"{cid} {i}"}), 100 + i, "/static/egg.svg") for i in range(n))
    return HomepageEntry(cid, weight, start, end, picks, tuple(p.sku for p in picks[:pinned]))


def run(entries, slots, rotations, state=None, first=1):
    state = state or RotationState()
    results = []
    for r in range(first, first + rotations):
        result = rotate(entries, slots, state, r)
        state = result.state
        results.append(result)
    return results


def test_quota_method_matches_the_published_rows():
    assert apportion([5117, 4400, 162, 161, 160], 100) == [52, 44, 2, 1, 1]
    assert apportion([9061, 7179, 5259, 3319, 1182], 26) == [10, 7, 5, 3, 1]


def test_pins_come_first_then_weighted_turns_in_yaml_order():
    entries = [entry("a", 3, 6, pinned=1), entry("b", 1, 4)]
    result = rotate(entries, 5, RotationState(), 1)
    skus = [(s.pick.sku, s.pinned) for s in result.slots]
    assert skus[0] == ("a-00", True)
    # seat 3 ties a (3/3) and b (1/1): the earlier id wins
    assert [s for s, _ in skus[1:]] == ["a-01", "a-02", "a-03", "b-00"]
    assert [s.position for s in result.slots] == [1, 2, 3, 4, 5]


def test_every_pick_appears_once_before_any_appears_twice():
    results = run([entry("a", 1, 5)], 2, 5)
    shown = [s.pick.sku for r in results for s in r.slots]
    assert shown == ["a-00", "a-01", "a-02", "a-03", "a-04", "a-00", "a-01", "a-02", "a-03", "a-04"]


def test_fewer_picks_than_slots_shows_fewer_slots():
    result = rotate([entry("a", 1, 2), entry("b", 5, 1)], 8, RotationState(), 1)
    assert sorted(s.pick.sku for s in result.slots) == ["a-00", "a-01", "b-00"]


def test_turn_order_carries_on_when_a_campaign_joins():
    a, b = entry("a", 1, 6), entry("b", 1, 6)
    first = run([a], 2, 2)  # a-00..a-03 shown
    after = rotate([a, b], 2, first[-1].state, 3)
    assert [s.pick.sku for s in after.slots if s.pick.campaign_id == "a"] == ["a-04"]
    assert after.state.base_rotation == 3


def test_same_inputs_same_result():
    entries = [entry("a", 2, 7, pinned=1), entry("b", 3, 5), entry("c", 1, 3)]
    one, two = run(entries, 6, 20), run(entries, 6, 20)
    assert [r.slots for r in one] == [r.slots for r in two]
    assert one[-1].inputs_digest == two[-1].inputs_digest


def test_view_drops_ended_campaign_and_fills_from_spares():
    end = T0 + timedelta(hours=8)
    entries = [entry("a", 1, 4, end=end), entry("b", 1, 10)]
    result = rotate(entries, 4, RotationState(), 1)
    before = homepage_view(result.slots, result.spares, end - timedelta(milliseconds=1), 4)
    after = homepage_view(result.slots, result.spares, end, 4)
    assert {s.pick.campaign_id for s in before} == {"a", "b"}
    assert [s.pick.campaign_id for s in after] == ["b"] * 4
    assert len({s.pick.sku for s in after}) == 4
    assert [s.position for s in after] == [1, 2, 3, 4]


campaign_sets = st.lists(st.tuples(st.integers(1, 9), st.integers(1, 12), st.integers(0, 2)), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(specs=campaign_sets, slots=st.integers(1, 12), rotations=st.integers(1, 40))
def test_guarantees_hold_for_random_campaign_sets(specs, slots, rotations):
    entries = [entry(f"c{i}", w, n, pinned=min(p, n)) for i, (w, n, p) in enumerate(specs)]
    results = run(entries, slots, rotations)
    pins = [sku for e in entries for sku in e.pinned]
    rotating = [e for e in entries if e.unpinned]
    free = slots - min(slots, len(pins))
    enough = all(len(e.unpinned) >= free for e in rotating)
    total_weight = sum(e.weight for e in rotating)
    counts = {e.campaign_id: 0 for e in rotating}
    last_seen: dict[str, list[str]] = {e.campaign_id: [] for e in rotating}
    for r, result in enumerate(results, start=1):
        idents = [(s.pick.campaign_id, s.pick.sku) for s in result.slots]
        assert len(idents) == len(set(idents)), "a pick twice in one rotation"
        shown_pins = [s.pick.sku for s in result.slots if s.pinned]
        assert shown_pins == pins[:slots]
        for s in result.slots:
            if not s.pinned:
                counts[s.pick.campaign_id] += 1
                last_seen[s.pick.campaign_id].append(s.pick.sku)
        if enough and rotating:
            for e in rotating:
                share = r * free * e.weight / total_weight
                assert abs(counts[e.campaign_id] - share) < 1, (e.campaign_id, r, counts, share)
    for e in rotating:
        skus = [p.sku for p in e.unpinned]
        seen = last_seen[e.campaign_id]
        # every pick once before any twice: the sequence follows the YAML order cyclically
        assert seen == [skus[i % len(skus)] for i in range(len(seen))]


@settings(max_examples=60, deadline=None)
@given(specs=campaign_sets, slots=st.integers(1, 10), rotations=st.integers(2, 30), window=st.integers(1, 10))
def test_any_run_of_consecutive_rotations_stays_within_two(specs, slots, rotations, window):
    entries = [entry(f"c{i}", w, n) for i, (w, n, _) in enumerate(specs)]
    results = run(entries, slots, rotations)
    rotating = entries
    if any(len(e.unpinned) < slots for e in rotating):
        return
    total_weight = sum(e.weight for e in rotating)
    per_rotation = [{e.campaign_id: 0 for e in rotating} for _ in results]
    for i, result in enumerate(results):
        for s in result.slots:
            per_rotation[i][s.pick.campaign_id] += 1
    for start in range(len(results)):
        for end in range(start + 1, min(len(results), start + window) + 1):
            for e in rotating:
                got = sum(per_rotation[k][e.campaign_id] for k in range(start, end))
                share = (end - start) * slots * e.weight / total_weight
                assert abs(got - share) < 2


@settings(max_examples=100, deadline=None)
@given(
    specs=st.lists(st.tuples(st.integers(1, 5), st.integers(1, 8)), min_size=2, max_size=5),
    slots=st.integers(1, 8),
    schedule=st.lists(st.sets(st.integers(0, 4), min_size=1), min_size=2, max_size=12),
)
def test_joins_and_leaves_never_reset_a_campaigns_turn_order(specs, slots, schedule):
    entries = [entry(f"c{i}", w, n) for i, (w, n) in enumerate(specs)]
    state, shown = RotationState(), {e.campaign_id: [] for e in entries}
    previous_key = None
    for number, live_ids in enumerate(schedule, start=1):
        live = [e for i, e in enumerate(entries) if i in live_ids]
        result = rotate(live, slots, state, number)
        state = result.state
        for s in result.slots:
            shown[s.pick.campaign_id].append(s.pick.sku)
        if live and state.live_key != previous_key:
            assert state.base_rotation == number
        previous_key = state.live_key
    for e in entries:
        skus = [p.sku for p in e.picks]
        seq = shown[e.campaign_id]
        assert seq == [skus[i % len(skus)] for i in range(len(seq))], "turn order restarted"
