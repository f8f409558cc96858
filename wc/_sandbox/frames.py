"""The sandbox's wire format: JSON messages, each preceded by its length (4 bytes, big-endian).

A length prefix lets a reader refuse a reply before reading it: a worker's reply may be at most
`MAX_REPLY` bytes, so a program that writes a gigabyte costs the parent nothing but a failure.
"""
from __future__ import annotations

import json
import socket
import struct
from typing import Any

HEADER = struct.Struct("!I")
MAX_REPLY = 16 * 1024 * 1024      # what a worker may send the parent
MAX_REQUEST = 512 * 1024 * 1024   # what the parent may send a worker (data syncs are chunked well below)


class FrameError(Exception):
    """A frame that is too large, cut short or not JSON."""


def encode(message: Any) -> bytes:
    data = json.dumps(message, separators=(",", ":"), allow_nan=False).encode()
    return HEADER.pack(len(data)) + data


def decode(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise FrameError(f"a frame that is not JSON ({type(exc).__name__})") from None


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    """`n` bytes from a blocking socket, or FrameError at the end of the stream."""
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise FrameError("the stream ended")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read(sock: socket.socket, limit: int = MAX_REQUEST) -> Any:
    """One message from a blocking socket."""
    (size,) = HEADER.unpack(recv_exactly(sock, HEADER.size))
    if size > limit:
        raise FrameError(f"a frame of {size} bytes (at most {limit})")
    return decode(recv_exactly(sock, size))


def write(sock: socket.socket, message: Any) -> None:
    sock.sendall(encode(message))
