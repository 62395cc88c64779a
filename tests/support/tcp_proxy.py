"""A real TCP proxy on 127.0.0.1 that can make the server behind it hang.

Use it as a context manager::

    with TcpProxy("127.0.0.1", 5432) as proxy:
        url = f"postgresql://kpibot@127.0.0.1:{proxy.port}/kpibot_test"
        ...
        proxy.hang()    # every connection stays open, nothing is forwarded either way, and
                        # new connections are accepted but not forwarded: a hung server
        proxy.resume()  # what was held is forwarded; new connections reach the server

This is the failure a stopped server cannot show: the TCP connection is accepted (the kernel
acknowledges every byte), so neither a refused connection nor a TCP timeout ever ends the
wait; only the client's own deadline can.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

__all__ = ["TcpProxy"]

_CHUNK = 65536


class TcpProxy:
    """Forwards 127.0.0.1:<port> to target until hang(); resume() lets everything through."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.accepted = 0
        self._acceptor = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)

    def __enter__(self) -> TcpProxy:
        self._acceptor.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def hung(self) -> bool:
        return not self._flowing.is_set()

    def hang(self) -> None:
        """Stop forwarding in both directions; keep every connection open; accept new ones."""
        self._flowing.clear()

    def resume(self) -> None:
        """Forward what was held and everything after it."""
        self._flowing.set()

    def close(self) -> None:
        self._closed.set()
        self._flowing.set()  # held pumps wake up and find their sockets closed
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
            self._sockets.clear()
        for sock in sockets:
            _close(sock)

    def _track(self, sock: socket.socket) -> bool:
        with self._lock:
            if self._closed.is_set():
                return False
            self._sockets.add(sock)
            return True

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            if not self._track(client):
                _close(client)
                return
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        # A connection accepted while hung reaches the server only after resume().
        self._flowing.wait()
        try:
            upstream = socket.create_connection(self.target, timeout=10)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        if not self._track(upstream):
            _close(client)
            _close(upstream)
            return
        done = threading.Barrier(2, action=lambda: (_close(client), _close(upstream)))
        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, target, done), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, done: threading.Barrier) -> None:
        try:
            while True:
                data = source.recv(_CHUNK)
                # Held here while hung: bytes already read (or the end of the stream) wait.
                self._flowing.wait()
                if self._closed.is_set():
                    return
                if not data:
                    target.shutdown(socket.SHUT_WR)
                    return
                target.sendall(data)
        except OSError:
            _close(source)
            _close(target)
        finally:
            with contextlib.suppress(threading.BrokenBarrierError):
                done.wait()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
