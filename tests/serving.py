"""Serving an ASGI app on a real socket for tests that need one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

START_SECONDS = 15
STOP_SECONDS = 20


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """`app` behind uvicorn in a thread on a free port of 127.0.0.1; yields its
    base URL and stops (joining the thread) on exit.

    Logging stays as pytest set it up (`log_config=None`), so what uvicorn logs
    (the sandbox's `drop_after_commit` traceback, say) is captured like any
    record and warns nothing."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STOP_SECONDS)
        assert not thread.is_alive(), "uvicorn did not stop"
