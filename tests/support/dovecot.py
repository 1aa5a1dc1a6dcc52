"""A real IMAP server for tests: Debian's dovecot on a free loopback port, passwd-file users, maildirs in tmp.

Its configuration, sockets, logs and mail all live in a fresh folder; no system service is touched. Run by a
normal user, every dovecot process is that user. Run by root (CI), dovecot refuses root for its login and mail
processes, so those use the unprivileged users the Debian package creates (dovenull, dovecot).
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DOVECOT = Path("/usr/sbin/dovecot")


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int
    users: dict[str, str]
    root: Path

    def client(self, user: str) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(user, self.users[user])
        return conn

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        conn = self.client(user)
        try:
            typ, data = conn.append(folder, None, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def count(self, user: str, folder: str, criteria: str = "ALL") -> int:
        from app.intake.imap import encode_folder

        conn = self.client(user)
        try:
            typ, _ = conn.select(encode_folder(folder), readonly=True)
            if typ != "OK":
                return 0
            typ, data = conn.uid("SEARCH", None, criteria)
            return len((data[0] or b"").split())
        finally:
            conn.logout()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def available() -> bool:
    return DOVECOT.exists()


@contextmanager
def running_dovecot(users: dict[str, str]) -> Iterator[ImapServer]:
    # Not under pytest's tmp_path: its folders are 0700 and dovecot's unprivileged processes must reach theirs.
    root = Path(tempfile.mkdtemp(prefix="qlvb-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
        (root / sub).chmod(0o755)  # the app's umask (QLVB_UMASK=077) would hide them from dovecot's own users
    if os.geteuid() == 0:
        internal, login, mail_user = "dovecot", "dovenull", "dovecot"
    else:
        internal = login = mail_user = pwd.getpwuid(os.geteuid()).pw_name
    mail_uid = pwd.getpwnam(mail_user).pw_uid
    mail_gid = pwd.getpwnam(mail_user).pw_gid
    os.chown(root / "mail", mail_uid, mail_gid)
    (root / "passwd").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in users.items()))
    (root / "passwd").chmod(0o644)
    port = _free_port()
    group = grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name
    (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = {min(mail_uid, 100) if mail_uid else 0}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={root}/mail/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
""")
    (root / "dovecot.conf").chmod(0o644)
    proc = subprocess.Popen([str(DOVECOT), "-F", "-c", str(root / "dovecot.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = ImapServer("127.0.0.1", port, dict(users), root)
    try:
        deadline = time.monotonic() + 15
        first = next(iter(users))
        while True:
            try:
                server.client(first).logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                    err = proc.stderr.read() if proc.poll() is not None and proc.stderr else b""
                    raise RuntimeError(f"dovecot did not start: {err!r} {log[-2000:]}") from None
                time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)
