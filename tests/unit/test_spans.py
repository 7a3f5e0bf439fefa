"""Spans: the homepage between boundaries, laid out by the engine; the quota bound over rotations and spans."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.homepage.engine import RotationState
from chalicelib.homepage.spans import boundaries, compact_entries, plan, span_at, stored_plan
from chalicelib.homepage.stored import StoredRotation, entry_from_doc, entry_to_doc, rotation_doc
from tests.unit.test_rotation import T0, entry

STEP = timedelta(minutes=15)
MS = timedelta(milliseconds=1)


def test_a_campaign_that_starts_between_rotations_is_on_the_homepage_from_its_start():
    start = T0 + timedelta(minutes=10)
    entries = [entry("a", 1, 8), entry("b", 3, 6, pinned=2, start=start)]
    spans = plan(entries, 6, RotationState(), 1, T0, T0 + STEP)
    assert [s.starts for s in spans] == [T0, start]
    assert [s.ends for s in spans] == [start, T0 + STEP]
    before = span_at(spans, start - MS).view(start - MS, 6)
    after = span_at(spans, start).view(start, 6)
    assert {s.pick.campaign_id for s in before} == {"a"}
    assert [(s.pick.sku, s.pinned) for s in after[:2]] == [("b-00", True), ("b-01", True)]
    # the 4 free slots by the quota: b has 3/4 of the weight, and the live set changed at the start
    assert sorted(s.pick.campaign_id for s in after[2:]) == ["a", "b", "b", "b"]


def test_an_end_opens_a_span_without_the_ended_campaign():
    end = T0 + timedelta(minutes=5)
    spans = plan([entry("a", 1, 8, end=end), entry("b", 1, 8)], 4, RotationState(), 1, T0, T0 + STEP)
    assert [s.starts for s in spans] == [T0, end]
    assert {s.pick.campaign_id for s in spans[1].view(end, 4)} == {"b"}
    assert len(spans[1].view(end, 4)) == 4


def test_boundaries_outside_the_interval_open_no_span():
    entries = [entry("a", 1, 3, start=T0, end=T0 + STEP), entry("b", 1, 3, start=T0 - STEP)]
    assert boundaries(entries, T0, T0 + STEP) == []
    assert len(plan(entries, 4, RotationState(), 1, T0, T0 + STEP)) == 1


def test_past_the_last_span_only_live_picks_are_shown():
    end = T0 + STEP * 3  # after the horizon: the schedule stalled
    spans = plan([entry("a", 1, 8, end=end), entry("b", 1, 8)], 4, RotationState(), 1, T0, T0 + STEP)
    late = span_at(spans, end).view(end, 4)
    assert len(late) == 4 and {s.pick.campaign_id for s in late} == {"b"}


windows = st.tuples(st.integers(-20, 40), st.one_of(st.none(), st.integers(1, 60)))
campaign_specs = st.lists(st.tuples(st.integers(1, 9), st.integers(1, 12), st.integers(0, 2), windows), min_size=1, max_size=6)


def _entries(specs):
    out = []
    for i, (w, n, p, (start_min, length)) in enumerate(specs):
        start = T0 + timedelta(minutes=start_min)
        end = None if length is None else start + timedelta(minutes=length)
        out.append(entry(f"c{i}", w, n, pinned=min(p, n), start=start, end=end))
    return out


def _chain(entries, slots, rotations):
    """Rotations every 15 min from T0, each with its spans; the state runs through all of them."""
    state, out = RotationState(), []
    for r in range(rotations):
        spans = plan(entries, slots, state, r + 1, T0 + STEP * r, T0 + STEP * (r + 1))
        state = spans[-1].result.state
        out.append(spans)
    return out


@settings(max_examples=150, deadline=None)
@given(specs=campaign_specs, slots=st.integers(1, 10), rotations=st.integers(1, 6))
def test_quota_bound_holds_over_rotations_and_spans(specs, slots, rotations):
    entries = _entries(specs)
    steps = [span for spans in _chain(entries, slots, rotations) for span in spans]
    counts: dict[str, int] = {}
    key, house = None, 0
    for span in steps:
        live = [e for e in entries if e.live_at(span.starts)]
        rotating = [e for e in live if e.unpinned]
        pins = [sku for e in sorted(live, key=lambda e: e.campaign_id) for sku in e.pinned]
        shown_pins = [s.pick.sku for s in span.result.slots if s.pinned]
        assert shown_pins == pins[:slots], "pins first, from the span's first instant"
        assert all(s.live_at(span.starts) for s in span.result.slots), "a pick of a campaign not live"
        idents = [(s.pick.campaign_id, s.pick.sku) for s in span.result.slots]
        assert len(idents) == len(set(idents))
        if span.result.state.live_key != key:  # counted from the step at which the live set changed
            key, house, counts = span.result.state.live_key, 0, {}
        free = slots - min(slots, len(pins))
        enough = all(len(e.unpinned) >= free for e in rotating)
        for s in span.result.slots:
            if not s.pinned:
                counts[s.pick.campaign_id] = counts.get(s.pick.campaign_id, 0) + 1
        house += sum(1 for s in span.result.slots if not s.pinned)
        assert house == span.result.state.house
        if enough and rotating:
            total = sum(e.weight for e in rotating)
            for e in rotating:
                share = house * e.weight / total
                assert abs(counts.get(e.campaign_id, 0) - share) < 1, (e.campaign_id, counts, share)


@settings(max_examples=150, deadline=None)
@given(specs=campaign_specs, slots=st.integers(1, 10), rotations=st.integers(1, 6))
def test_the_stored_inputs_rebuild_the_same_spans(specs, slots, rotations):
    entries = _entries(specs)
    for full in _chain(entries, slots, rotations):
        first = full[0]
        spans, kept = stored_plan(entries, slots, first.before, first.result.rotation, first.starts, full[-1].ends)
        # the trimmed entries show what the whole ones show, and hand on the same state
        assert [s.result.slots for s in spans] == [s.result.slots for s in full]
        assert spans[-1].result.state == full[-1].result.state
        doc = rotation_doc(spans, 7, kept, slots)
        stored = StoredRotation.parse(doc)
        assert [s.starts for s in stored.spans] == [s.starts for s in spans]
        for mine, theirs in zip(stored.spans, spans, strict=True):
            assert mine.result.slots == theirs.result.slots
            assert mine.result.spares == theirs.result.spares
            assert mine.result.state.seats == theirs.result.state.seats
        assert doc["spans"] == [
            {"from": s.starts.isoformat(), "slots": [[x.pick.campaign_id, x.pick.sku, x.pinned] for x in s.result.slots]}
            for s in spans
        ]


def test_the_trimmed_entries_keep_the_picks_the_spans_show_and_slots_spares():
    entries = [entry("a", 1, 30), entry("b", 1, 30, start=T0 + timedelta(minutes=20))]
    spans = plan(entries, 4, RotationState(), 1, T0, T0 + STEP)
    (a,) = compact_entries(entries, spans, 4)  # b is not live before the horizon
    assert [p.sku for p in a.picks] == [f"a-{i:02d}" for i in range(8)]  # 4 shown + 4 spares (all its share)
    assert entry_from_doc(entry_to_doc(a)) == a
