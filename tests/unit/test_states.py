from datetime import timedelta

from chalicelib.domain import states
from tests.factories import campaign, local


def test_the_four_states_at_their_boundaries_to_the_millisecond():
    c = campaign()
    ms = timedelta(milliseconds=1)
    assert states.state_at(c, local(2026, 10, 10) - ms) == "hidden"
    assert states.state_at(c, local(2026, 10, 10)) == "teaser"
    assert states.state_at(c, local(2026, 10, 17) - ms) == "teaser"
    assert states.state_at(c, local(2026, 10, 17)) == "live"
    assert states.state_at(c, local(2026, 10, 18) - ms) == "live"
    assert states.state_at(c, local(2026, 10, 18)) == "ended"


def test_without_teaser_hidden_until_start():
    c = campaign(teaser_from=None)
    assert states.state_at(c, local(2026, 10, 16, 23, 59)) == "hidden"
    assert states.next_change(c, local(2026, 10, 16, 23, 59)) == local(2026, 10, 17)


def test_max_age_is_capped_by_the_next_change_and_300():
    at = local(2026, 10, 17, 23, 58)
    assert states.max_age_s(local(2026, 10, 18), at) == 120
    assert states.max_age_s(local(2026, 10, 19), at) == 300
    assert states.max_age_s(None, at) == 300
    assert states.max_age_s(at + timedelta(milliseconds=999), at) == 0
