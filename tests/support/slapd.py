"""A real OpenLDAP server for tests: slapd on a free loopback port, mdb backend, a test tree loaded by slapadd."""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SLAPD = Path("/usr/sbin/slapd")
BASE = "dc=vinhphuc,dc=gov,dc=vn"
PEOPLE = f"ou=people,{BASE}"
SERVICE_DN = f"cn=qlvb,{BASE}"
SERVICE_PASSWORD = "Dich-vu-QLVB-2026"


@dataclass(frozen=True)
class LdapServer:
    url: str
    base: str
    people: str
    bind_dn: str
    bind_password: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hash(password: str) -> str:
    return subprocess.run(["/usr/sbin/slappasswd", "-s", password], capture_output=True, text=True,
                          check=True).stdout.strip()


def ldif_entry(dn: str, attrs: Mapping[str, str | Sequence[str]]) -> str:
    """One LDIF record; values outside ASCII (Vietnamese names) are written base64 ("attr:: …") as LDIF requires."""

    def line(name: str, value: str) -> str:
        if value.isascii() and not value.startswith((" ", ":", "<")):
            return f"{name}: {value}"
        return f"{name}:: {base64.b64encode(value.encode()).decode()}"

    lines = [line("dn", dn)]
    for name, values in attrs.items():
        for value in [values] if isinstance(values, str) else values:
            lines.append(line(name, value))
    return "\n".join(lines) + "\n"


def password_hash(password: str) -> str:
    return _hash(password)


@contextmanager
def running_slapd(tmp: Path, people: dict[str, str], *, entries: Sequence[str] = ()) -> Iterator[LdapServer]:
    """``people``: e-mail -> password. Each becomes inetOrgPerson uid=<local part> with mail=<e-mail>.
    ``entries``: further LDIF records (see ``ldif_entry``), loaded after the people."""
    data = tmp / "data"
    data.mkdir(parents=True)
    conf = tmp / "slapd.conf"
    conf.write_text(f"""
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {tmp}/slapd.pid
database mdb
maxsize 10485760
suffix "{BASE}"
rootdn "cn=admin,{BASE}"
rootpw {_hash("root-" + SERVICE_PASSWORD)}
directory {data}
access to attrs=userPassword by self auth by anonymous auth by * none
access to * by dn.exact="{SERVICE_DN}" read by self read by * none
""")
    tree = [f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: vinhphuc\no: Vinh Phuc\n",
            f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
            f"dn: {SERVICE_DN}\nobjectClass: person\ncn: qlvb\nsn: qlvb\nuserPassword: {_hash(SERVICE_PASSWORD)}\n"]
    for mail, password in people.items():
        uid = mail.split("@")[0]
        tree.append(f"dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\n"
                    f"givenName: {uid}\nmail: {mail}\nuserPassword: {_hash(password)}\n")
    ldif = tmp / "tree.ldif"
    ldif.write_text("\n".join([*tree, *entries]))
    subprocess.run(["/usr/sbin/slapadd", "-f", str(conf), "-l", str(ldif)], check=True, capture_output=True)
    port = _free_port()
    url = f"ldap://127.0.0.1:{port}"
    proc = subprocess.Popen([str(SLAPD), "-d", "0", "-f", str(conf), "-h", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("slapd did not start: " + (proc.stderr.read() or b"").decode()[-2000:]) from None
                time.sleep(0.1)
        yield LdapServer(url, BASE, PEOPLE, SERVICE_DN, SERVICE_PASSWORD)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data, ignore_errors=True)
