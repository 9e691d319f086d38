"""The HTTP(S) server under the sidecar and the webhook: hypercorn on one asyncio event loop.

A connection costs a coroutine and a socket until it has sent a complete request head, never a
worker thread, and every phase has a deadline, so slow or idle clients cannot starve others.
"""
