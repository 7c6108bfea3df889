"""``python -m bench.fanout.profiled PORT PATH``: the app under cProfile, served as ``python app.py serve`` serves
it, until SIGTERM; the profile goes to PATH."""

from __future__ import annotations

import contextlib
import cProfile
import signal
import sys
from collections.abc import Iterator

import uvicorn

from app import server_options
from core.settings import get_settings


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # uvicorn re-raises SIGTERM at exit: the profile would be lost
        yield


def main(port: int, path: str) -> None:
    options = server_options(get_settings())
    config = uvicorn.Config("app:create_app", factory=True, host="127.0.0.1", port=port, log_level="warning", **options)  # type: ignore[arg-type]
    config.access_log = False
    server = _Server(config)
    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        server.run()
    finally:
        profiler.disable()
        profiler.dump_stats(path)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
