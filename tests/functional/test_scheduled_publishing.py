"""A campaign published weeks ahead goes live on its own: no second step."""

from tests.factories import campaign, local


def test_published_early_then_404_teaser_live_ended_as_the_clock_moves(client, publish, clock, services):
    clock.set(local(2026, 9, 20))
    publish(campaign())
    seen = []
    for at in (local(2026, 9, 20), local(2026, 10, 12), local(2026, 10, 17, 10), local(2026, 10, 18, 0, 0, 1)):
        clock.set(at)
        response = client.http.get("/api/campaigns/poverty-day-2026")
        seen.append(response.status_code)
    assert seen == [404, 200, 200, 410]
