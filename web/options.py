"""`OPTIONS` answers that list every method of a path.

Litestar 2 builds a path's automatic `OPTIONS` handler when the first handler of that path is
registered and keeps it when later ones join, so `OPTIONS /x` on a path with `GET` and `POST`
answers `Allow: OPTIONS, POST` (litestar-org/litestar#4169, fixed in Litestar 3).  Found by the
API fuzzing suite (tests/test_fuzz.py).
"""

from __future__ import annotations

from litestar import Litestar, Response
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_204_NO_CONTENT


def allow_every_method(app: Litestar) -> None:
    """Point each automatic `OPTIONS` handler at the methods of the route that now holds it."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or "OPTIONS" not in route.route_handler_map:
            continue
        handler, _ = route.route_handler_map["OPTIONS"]
        if handler.fn.__name__ != "options_handler":  # an OPTIONS handler of our own
            continue
        handler._fn = _answer(", ".join(sorted(route.methods)))


def _answer(allow: str):
    def options_handler(scope) -> Response:  # the signature of Litestar's own
        return Response(content=None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": allow},
                        media_type="text/plain")

    return options_handler
