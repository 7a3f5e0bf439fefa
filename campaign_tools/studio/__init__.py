"""``campaign studio``: a local web page for marketing staff (docs/studio.md).

A tool, never packaged or deployed, served on 127.0.0.1 only, and it writes nothing:

- :mod:`.timeline`: every campaign file's spans on one axis, with the validator's diagnostics;
- :mod:`.machine`: the consumer pages at a chosen instant, rendered as ``campaign preview`` renders them;
- :mod:`.fairness`: one day of simulated rotations against each campaign's quota;
- :mod:`.plan`: what ``campaign plan --stage S`` would print, or why the stage cannot be reached;
- :mod:`.server`: the pages (:class:`~.server.Studio`) and the HTTP server.
"""

from campaign_tools.studio.server import Studio, make_server, serve_studio

__all__ = ["Studio", "make_server", "serve_studio"]
