"""The thread cut-off of a DynamoDB call (chalicelib.store.cutoff), without timing anything."""

from __future__ import annotations

import contextvars
import threading

import pytest

from chalicelib.store.cutoff import CallTimedOut, ThreadCutoff

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")


def test_a_call_answers_through_the_cutoff_with_its_value_its_error_and_the_callers_context():
    cutoff = ThreadCutoff(workers=2)
    VAR.set("the request's")
    assert cutoff.run(lambda: (VAR.get(), threading.current_thread().name), 30.0)[0] == "the request's"
    assert cutoff.run(lambda: threading.current_thread().name, 30.0).startswith("dynamodb-call")

    def fails():
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        cutoff.run(fails, 30.0)


def test_a_call_still_queued_when_its_time_is_up_is_never_sent():
    cutoff = ThreadCutoff(workers=1)
    started, release, ran = threading.Event(), threading.Event(), []

    def busy():
        started.set()
        release.wait()
        return "first"

    results = []
    first = threading.Thread(target=lambda: results.append(cutoff.run(busy, 30.0)))
    first.start()
    started.wait()  # the only worker is busy: the next call queues behind it
    with pytest.raises(CallTimedOut) as raised:
        cutoff.run(lambda: ran.append("second"), 0.0)
    assert raised.value.started is False
    release.set()
    first.join()
    assert results == ["first"]
    assert cutoff.run(lambda: "third", 30.0) == "third" and ran == []  # the cancelled call never ran
