"""A byte-counting TCP relay on loopback: put it between the pipeline and the real Azurite to measure how
much a step moves over the wire (requests and responses, headers included), with nothing mocked."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from formloop.stack import AzuriteInfo

CHUNK = 64 * 1024


@dataclass
class Relay:
    """Listens on a free loopback port and forwards every connection to `target_port`."""

    target_port: int
    sent: int = 0  # bytes from the client to the server (uploads, requests)
    received: int = 0  # bytes from the server to the client (downloads, responses)
    lock: threading.Lock = field(default_factory=threading.Lock)
    listener: socket.socket = field(init=False)

    def __post_init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    @property
    def total(self) -> int:
        with self.lock:
            return self.sent + self.received

    def reset(self) -> None:
        with self.lock:
            self.sent = self.received = 0

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        try:
            while data := source.recv(CHUNK):
                with self.lock:
                    if upstream:
                        self.sent += len(data)
                    else:
                        self.received += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


@dataclass
class Traffic:
    """An Azurite reached through one relay per service; `azurite` is what the pipeline should use."""

    azurite: AzuriteInfo
    relays: list[Relay]

    @property
    def total(self) -> int:
        return sum(relay.total for relay in self.relays)

    @property
    def received(self) -> int:
        return sum(relay.received for relay in self.relays)

    def reset(self) -> None:
        for relay in self.relays:
            relay.reset()


@contextmanager
def counted(azurite: AzuriteInfo) -> Iterator[Traffic]:
    """The same Azurite behind byte-counting relays (blob, queue and table)."""
    relays = [Relay(azurite.blob_port), Relay(azurite.queue_port), Relay(azurite.table_port)]
    try:
        info = AzuriteInfo(relays[0].port, relays[1].port, relays[2].port, azurite.host,
                           azurite.account_name, azurite.account_key)
        yield Traffic(info, relays)
    finally:
        for relay in relays:
            relay.close()
