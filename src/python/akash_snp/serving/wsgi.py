"""Running a WSGI application under hypercorn, in a worker thread or on the event loop.

hypercorn reads the whole request body on the event loop (up to ``max_body``) before the
application runs, so a client that sends its body slowly holds no thread either.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from hypercorn.app_wrappers import WSGIWrapper
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, Scope, WSGIFramework

Message = Any


def threaded(app: WSGIFramework, max_body: int) -> WSGIWrapper:
    """Each request runs in the loop's default executor: for handlers that may block."""
    return WSGIWrapper(app, max_body)


class InlineWSGI(WSGIWrapper):
    """Each request runs on the event loop itself, without a thread hop or GIL hand-over; with
    ``inline``, only the requests it accepts (a cached answer, a health check), the others in
    the loop's default executor, where they may wait on I/O without stalling the loop.

    Only for requests that never block (pure computation, sub-millisecond): while one runs, the
    loop serves nobody else. The webhook's admissions are such requests, and skipping the
    executor halves their CPU cost and their latency tail; so are the sidecar's cached answers.
    """

    def __init__(
        self,
        app: WSGIFramework,
        max_body: int,
        inline: Callable[[Mapping[str, object]], bool] | None = None,
    ) -> None:
        super().__init__(app, max_body)
        self._inline = inline

    async def __call__(
        self,
        scope: Scope,
        receive: ASGIReceiveCallable,
        send: ASGISendCallable,
        sync_spawn: Callable[..., Awaitable[Any]],
        call_soon: Callable[..., Any],
    ) -> None:
        if scope["type"] != "http":
            return
        if self._inline is not None and not self._inline(scope):
            await super().__call__(scope, receive, send, sync_spawn, call_soon)  # in a thread
            return
        pending: list[Message] = []

        async def run_here(function: Callable[..., None], *args: Any) -> None:
            function(*args)

        def collect(_send: ASGISendCallable, message: Message) -> None:
            pending.append(message)

        async def flush_then_send(message: Message) -> None:
            for earlier in pending:
                await send(earlier)
            pending.clear()
            await send(message)

        await self.handle_http(scope, receive, flush_then_send, run_here, collect)

