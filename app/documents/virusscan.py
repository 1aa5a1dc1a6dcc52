"""Optional virus scan of uploads by ClamAV's daemon (Debian ``clamav-daemon``), before anything is stored.

Spoken over clamd's own INSTREAM protocol (a Unix socket or ``host:port``): no client library to keep up. With
``QLVB_CLAMD`` unset nothing is scanned; once set, a daemon that cannot answer refuses the upload (fail closed)
and the administrator finds why in the log.
"""

from __future__ import annotations

import logging
import socket
import struct

log = logging.getLogger(__name__)

CHUNK = 64 * 1024


class ScanUnavailable(Exception):
    """clamd did not answer (not running, timed out, refused the stream)."""


def _connect(address: str, timeout: float) -> socket.socket:
    if address.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target: str | tuple[str, int] = address
    else:
        host, _, port = address.rpartition(":")
        sock = socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET, socket.SOCK_STREAM)
        target = (host.strip("[]") or "127.0.0.1", int(port))
    sock.settimeout(timeout)
    try:
        sock.connect(target)
    except OSError:
        sock.close()
        raise
    return sock


def scan_bytes(data: bytes, address: str, *, timeout: float = 30.0) -> str | None:
    """The signature name clamd found in ``data``, or None if clean; ScanUnavailable if clamd did not say."""
    try:
        with _connect(address, timeout) as sock:
            sock.sendall(b"zINSTREAM\0")
            for start in range(0, len(data), CHUNK):
                chunk = data[start:start + CHUNK]
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            reply = b""
            while not reply.endswith(b"\0") and len(reply) < 4096:
                part = sock.recv(4096)
                if not part:
                    break
                reply += part
    except (OSError, ValueError) as exc:
        raise ScanUnavailable(f"clamd at {address}: {exc}") from None
    answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    # "stream: OK", "stream: Eicar-Signature FOUND", "INSTREAM size limit exceeded. ERROR"
    if answer.endswith(" FOUND"):
        return answer.removeprefix("stream:").removesuffix("FOUND").strip()
    if answer.endswith(": OK"):
        return None
    raise ScanUnavailable(f"clamd at {address} answered {answer!r}")
