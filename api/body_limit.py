"""The request body limit, applied before authentication and parsing.

FastAPI reads and parses a body before it resolves the dependencies that authenticate, so
without a limit an anonymous caller makes the server hold whatever it sends.
"""

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import HTTP_PROBLEMS, problem_response


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body may have at most {limit} bytes")


class BodyLimit:
    """Refuse a body over the limit with a 413 problem, having read no more than the limit.

    A declared `Content-Length` over it is refused before the app runs; a body without one
    (chunked) is counted as it arrives, and the read that passes the limit raises BodyTooLarge,
    which the problem handlers render. `larger` gives some paths their own limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, larger: Mapping[str, int]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_bytes)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            slug, title = HTTP_PROBLEMS[413]
            response = problem_response(
                Request(scope),
                413,
                slug,
                title,
                BodyTooLarge(limit).detail,
                [],
                # The rest of the body is never read, so the connection cannot serve another
                # request.
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)
