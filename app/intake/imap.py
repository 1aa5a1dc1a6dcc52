"""The IMAP side (stdlib imaplib): log in, list unseen messages, fetch one, move it to the processed folder.

Nothing here touches the database; the job holds no transaction while it talks to the server.
"""

from __future__ import annotations

import base64
import datetime as dt
import imaplib
import logging
import re
import socket
import ssl
import time
from dataclasses import dataclass
from types import TracebackType

from .errors import MailboxUnavailableError

log = logging.getLogger("qlvb.intake.imap")

TIMEOUT_SECONDS = 30.0
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_UID = re.compile(rb"UID (\d+)")


@dataclass(frozen=True)
class MailboxAccessInfo:
    host: str
    port: int
    security: str  # ssl | starttls | none
    username: str
    password: str
    folder: str
    processed_folder: str


@dataclass(frozen=True)
class FetchedMessageInfo:
    uid: str
    size: int
    raw: bytes | None  # None when larger than the limit (only the headers were read)
    headers: bytes
    internal_date: dt.datetime | None


def encode_folder(name: str) -> str:
    """IMAP's modified UTF-7 (RFC 3501 §5.1.3), quoted: "Đã nhận" and other Vietnamese names work."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            b64 = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii").rstrip("=")
            out.append("&" + b64.replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    quoted = "".join(out).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}"'


def _unavailable(access: MailboxAccessInfo, exc: BaseException) -> MailboxUnavailableError:
    where = f"{access.host}:{access.port}"
    text = str(exc).lower()
    if isinstance(exc, imaplib.IMAP4.error) and ("auth" in text or "login" in text):
        message = f"Máy chủ thư {where} từ chối đăng nhập của tài khoản {access.username}; hãy kiểm tra tên đăng " \
                  "nhập và mật khẩu."
    elif isinstance(exc, ssl.SSLError):
        message = f"Không thiết lập được kết nối bảo mật (TLS) với máy chủ thư {where}; hãy kiểm tra chế độ bảo " \
                  "mật và chứng thư của máy chủ."
    elif isinstance(exc, socket.timeout | TimeoutError):
        message = f"Máy chủ thư {where} không trả lời trong {TIMEOUT_SECONDS:.0f} giây."
    elif isinstance(exc, OSError):
        message = f"Không kết nối được máy chủ thư {where}; hãy kiểm tra địa chỉ, cổng và tường lửa."
    else:
        message = f"Máy chủ thư {where} trả lời không đúng giao thức IMAP."
    return MailboxUnavailableError(message, log=f"imap {where} user {access.username}: {exc!r}")


def _ok(typ: str, data: object, what: str) -> None:
    if typ != "OK":
        raise imaplib.IMAP4.error(f"{what}: {typ} {data!r}")


class ImapMailbox:
    """``with ImapMailbox(access) as box:`` — logged in, the folder selected (read-write)."""

    def __init__(self, access: MailboxAccessInfo):
        self.access = access
        self.conn: imaplib.IMAP4 | None = None
        self.can_move = False

    def __enter__(self) -> ImapMailbox:
        a = self.access
        try:
            if a.security == "ssl":
                self.conn = imaplib.IMAP4_SSL(a.host, a.port, ssl_context=ssl.create_default_context(),
                                              timeout=TIMEOUT_SECONDS)
            else:
                self.conn = imaplib.IMAP4(a.host, a.port, timeout=TIMEOUT_SECONDS)
                if a.security == "starttls":
                    self.conn.starttls(ssl.create_default_context())
            self.conn.login(a.username, a.password)
            self.can_move = "MOVE" in self.conn.capabilities
            typ, data = self.conn.select(encode_folder(a.folder))
            _ok(typ, data, f"SELECT {a.folder}")
            self._ensure(a.processed_folder)
        except (imaplib.IMAP4.error, OSError, ValueError) as exc:
            self._close()
            raise _unavailable(a, exc) from None
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._close()

    def _close(self) -> None:
        if self.conn is None:
            return
        try:
            self.conn.logout()
        except (imaplib.IMAP4.error, OSError):
            log.debug("imap logout failed", exc_info=True)
        self.conn = None

    def _ensure(self, folder: str) -> None:
        assert self.conn is not None
        typ, data = self.conn.list('""', encode_folder(folder))
        if typ == "OK" and any(d for d in data if d):
            return
        typ, data = self.conn.create(encode_folder(folder))
        _ok(typ, data, f"CREATE {folder}")

    def _call(self, what: str, *args: str) -> list[object]:
        assert self.conn is not None
        try:
            typ, data = self.conn.uid(*args)
            _ok(typ, data, what)
        except (imaplib.IMAP4.error, OSError) as exc:
            raise _unavailable(self.access, exc) from None
        return list(data)

    def unseen(self, limit: int) -> list[str]:
        """UIDs of the unseen messages, oldest first, at most ``limit`` (the rest wait for the next run)."""
        data = self._call("SEARCH UNSEEN", "SEARCH", "UNSEEN")
        uids = (data[0] or b"").split() if data and isinstance(data[0], bytes) else []
        return [u.decode() for u in uids[:limit]]

    def fetch(self, uid: str, max_bytes: int) -> FetchedMessageInfo | None:
        """The message (BODY.PEEK: not marked seen by reading), or only its headers when above ``max_bytes``."""
        meta = self._call("FETCH SIZE", "FETCH", uid, "(RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])")
        if not meta or meta[0] is None:
            return None  # gone meanwhile (another client expunged it)
        first = meta[0]
        envelope, headers = (first[0], first[1]) if isinstance(first, tuple) else (first, b"")
        match = _SIZE.search(envelope)
        size = int(match.group(1)) if match else 0
        parsed = imaplib.Internaldate2tuple(envelope)  # local time of this process
        internal = dt.datetime.fromtimestamp(time.mktime(parsed), tz=dt.UTC) if parsed else None
        raw = None
        if size <= max_bytes:
            body = self._call("FETCH BODY", "FETCH", uid, "(BODY.PEEK[])")
            part = body[0] if body else None
            raw = part[1] if isinstance(part, tuple) else None
        return FetchedMessageInfo(uid=uid, size=size, raw=raw, headers=bytes(headers or b""), internal_date=internal)

    def settle(self, uid: str, *, refused: bool) -> None:
        """Mark it seen (and flagged when refused), then move it to the processed folder."""
        flags = r"(\Seen \Flagged)" if refused else r"(\Seen)"
        self._call("STORE", "STORE", uid, "+FLAGS", flags)
        target = encode_folder(self.access.processed_folder)
        if self.can_move:
            self._call("MOVE", "MOVE", uid, target)
            return
        self._call("COPY", "COPY", uid, target)
        self._call("STORE deleted", "STORE", uid, "+FLAGS", r"(\Deleted)")
        assert self.conn is not None
        try:
            self.conn.expunge()
        except (imaplib.IMAP4.error, OSError) as exc:
            raise _unavailable(self.access, exc) from None


def check_connection(access: MailboxAccessInfo) -> int:
    """Log in, open both folders; return how many unseen messages wait (raise MailboxUnavailableError)."""
    with ImapMailbox(access) as box:
        return len(box.unseen(limit=100_000))
