"""A deployed stage's observability for tests: JSON log lines (chalicelib's loggers routed
through the Powertools handler, as on Lambda) into a StringIO; logging state put back after."""

from __future__ import annotations

import io
import logging
from typing import Any

from chalicelib import observability
from chalicelib.observability import Observability


def deployed_observability(monkeypatch: Any, services: Any, **options: Any) -> tuple[Observability, io.StringIO]:
    """``(obs, stream)``: an ``Observability("prod", ...)`` with ``library_logs=True`` writing to
    ``stream``, set on ``services`` (the built services the app serves from; ``options``: its other
    arguments, e.g. ``emit``). ``monkeypatch`` restores the ``chalicelib`` logger."""
    library = logging.getLogger("chalicelib")
    monkeypatch.setattr(library, "handlers", list(library.handlers))
    monkeypatch.setattr(library, "propagate", library.propagate)
    monkeypatch.setattr(library, "level", library.level)
    monkeypatch.setattr(observability, "_library_logs_routed", False)
    stream = io.StringIO()
    obs = Observability("prod", **{"emit": None, **options}, log_stream=stream, library_logs=True)
    services.observability = obs
    return obs, stream
