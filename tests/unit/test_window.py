from datetime import timedelta

from chalicelib.domain import window
from tests.factories import campaign, local


def test_the_four_states_at_their_boundaries_to_the_millisecond():
    c = campaign()
    ms = timedelta(milliseconds=1)
    assert c.window.state_at(local(2026, 10, 10) - ms) == "hidden"
    assert c.window.state_at(local(2026, 10, 10)) == "teaser"
    assert c.window.state_at(local(2026, 10, 17) - ms) == "teaser"
    assert c.window.state_at(local(2026, 10, 17)) == "live"
    assert c.window.state_at(local(2026, 10, 18) - ms) == "live"
    assert c.window.state_at(local(2026, 10, 18)) == "ended"


def test_without_teaser_hidden_until_start():
    c = campaign(teaser_from=None)
    assert c.window.state_at(local(2026, 10, 16, 23, 59)) == "hidden"
    assert c.window.next_change(local(2026, 10, 16, 23, 59)) == local(2026, 10, 17)


def test_max_age_is_capped_by_the_next_change_and_300():
    at = local(2026, 10, 17, 23, 58)
    assert window.max_age_s(local(2026, 10, 18), at) == 120
    assert window.max_age_s(local(2026, 10, 19), at) == 300
    assert window.max_age_s(None, at) == 300
    assert window.max_age_s(at + timedelta(milliseconds=999), at) == 0


def test_live_at_is_the_live_state_and_the_window_of_a_regional_store_never_ends():
    c = campaign()
    for at in (local(2026, 10, 16), local(2026, 10, 17), local(2026, 10, 18) - timedelta(microseconds=1), local(2026, 10, 18)):
        assert c.window.live_at(at) == (c.window.state_at(at) == "live")
    store = window.Window(starts_at=local(2026, 9, 1))
    assert store.live_at(local(2036, 1, 1)) and store.next_change(local(2026, 9, 1)) is None
    assert store.state_at(local(2026, 8, 31)) == "hidden"


def test_two_windows_overlap_when_their_live_spans_share_an_instant():
    october = window.Window(local(2026, 10, 17), local(2026, 10, 18))
    assert october.overlaps(window.Window(local(2026, 10, 17, 23, 59), local(2026, 10, 19)))
    assert not october.overlaps(window.Window(local(2026, 10, 18), local(2026, 10, 19)))  # ends_at is exclusive
    assert october.overlaps(window.Window(local(2026, 9, 1)))  # a store that never ends
