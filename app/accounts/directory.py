"""Read people from the provincial LDAP directory to import them as staff (app.accounts.staff_import).

Read-only, through the service account FAB's LDAP login already uses (AUTH_LDAP_BIND_USER). Which attribute
holds the name, the e-mail, the department, the title and the phone is configuration (QLVB_LDAP_ATTR_*).
Only entries under the configured base (AUTH_LDAP_SEARCH) are ever read; a DN from a form is checked first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.core.errors import NotFoundError, ServiceUnavailableError
from app.core.text import nfc

log = logging.getLogger("qlvb.directory")

MAX_RESULTS = 2000


class DirectoryUnavailableError(ServiceUnavailableError):
    code = "directory_unavailable"


@dataclass(frozen=True)
class DirectorySettings:
    server: str
    base: str
    bind_dn: str
    bind_password: str
    timeout: float = 5.0
    use_tls: bool = False
    cacertfile: str = ""
    person_filter: str = "(objectClass=inetOrgPerson)"
    group_filter: str = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))"
    name_attrs: tuple[str, ...] = ("displayName", "cn")
    mail_attr: str = "mail"
    department_attr: str = "ou"
    title_attr: str = "title"
    phone_attr: str = "telephoneNumber"
    username_attr: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DirectorySettings:
        def attrs(key: str, default: str) -> str:
            return str(config.get(key) or default).strip()

        return cls(
            server=str(config.get("AUTH_LDAP_SERVER") or ""), base=str(config.get("AUTH_LDAP_SEARCH") or ""),
            bind_dn=str(config.get("AUTH_LDAP_BIND_USER") or ""),
            bind_password=str(config.get("AUTH_LDAP_BIND_PASSWORD") or ""),
            timeout=float(config.get("QLVB_LDAP_TIMEOUT") or 5), use_tls=bool(config.get("AUTH_LDAP_USE_TLS")),
            cacertfile=str(config.get("AUTH_LDAP_TLS_CACERTFILE") or ""),
            person_filter=attrs("QLVB_LDAP_PERSON_FILTER", cls.person_filter),
            group_filter=attrs("QLVB_LDAP_GROUP_FILTER", cls.group_filter),
            name_attrs=tuple(a.strip() for a in attrs("QLVB_LDAP_ATTR_NAME", "displayName,cn").split(",") if a.strip()),
            mail_attr=attrs("QLVB_LDAP_ATTR_MAIL", cls.mail_attr),
            department_attr=attrs("QLVB_LDAP_ATTR_DEPARTMENT", cls.department_attr),
            title_attr=attrs("QLVB_LDAP_ATTR_TITLE", cls.title_attr),
            phone_attr=attrs("QLVB_LDAP_ATTR_PHONE", cls.phone_attr),
            username_attr=str(config.get("QLVB_LDAP_ATTR_USERNAME") or "").strip(),
        )

    @property
    def configured(self) -> bool:
        return bool(self.server and self.base and self.bind_dn)


@dataclass(frozen=True)
class DirectoryEntry:
    """An organisational unit or a group under the base."""

    dn: str
    name: str


@dataclass(frozen=True)
class DirectoryPerson:
    dn: str
    full_name: str
    email: str
    department: str
    position: str
    phone: str
    username: str

    def as_row(self) -> dict[str, str]:
        """The person as a row of the import file (the same columns)."""
        return {"full_name": self.full_name, "email": self.email, "department": self.department,
                "position": self.position, "phone": self.phone, "username": self.username}


def _under_base(dn: str, base: str) -> bool:
    import ldap.dn

    try:
        parts = [tuple(x.lower() for x in rdn[0][:2]) for rdn in ldap.dn.str2dn(dn)]
        base_parts = [tuple(x.lower() for x in rdn[0][:2]) for rdn in ldap.dn.str2dn(base)]
    except ldap.DECODING_ERROR:
        return False
    return len(parts) >= len(base_parts) and parts[len(parts) - len(base_parts):] == base_parts


def check_dn(settings: DirectorySettings, dn: str) -> str:
    dn = nfc(dn or "").strip()
    if not dn or len(dn) > 1000 or not _under_base(dn, settings.base):
        raise NotFoundError("Không tìm thấy mục này trong thư mục cán bộ.")
    return dn


class _Connection:
    def __init__(self, settings: DirectorySettings):
        self.settings = settings

    def __enter__(self) -> Any:
        import ldap

        s = self.settings
        if not s.configured:
            raise DirectoryUnavailableError("Chưa cấu hình máy chủ thư mục (LDAP) cho việc nhập cán bộ.")
        try:
            if s.cacertfile:
                ldap.set_option(ldap.OPT_X_TLS_CACERTFILE, s.cacertfile)
            con = ldap.initialize(s.server)
            con.set_option(ldap.OPT_REFERRALS, 0)
            con.set_option(ldap.OPT_NETWORK_TIMEOUT, s.timeout)
            con.set_option(ldap.OPT_TIMEOUT, s.timeout)
            con.set_option(ldap.OPT_SIZELIMIT, MAX_RESULTS)
            if s.use_tls:
                con.start_tls_s()
            con.simple_bind_s(s.bind_dn, s.bind_password)
        except ldap.LDAPError as exc:
            log.error("LDAP server %s unavailable for staff import: %s", s.server, exc)
            raise DirectoryUnavailableError("Không kết nối được máy chủ thư mục (LDAP); hãy thử lại sau.",
                                            log=f"LDAP unavailable: {exc}") from None
        self.con = con
        return con

    def __exit__(self, *exc: object) -> None:
        import contextlib

        import ldap

        with contextlib.suppress(ldap.LDAPError):
            self.con.unbind_s()


def _search(con: Any, base: str, scope: int, flt: str, attrs: Sequence[str] | None) -> list[tuple[str, dict]]:
    import ldap

    try:
        found = con.search_ext_s(base, scope, flt, list(attrs) if attrs else None, sizelimit=MAX_RESULTS)
    except ldap.SIZELIMIT_EXCEEDED:
        raise DirectoryUnavailableError(f"Thư mục trả về quá {MAX_RESULTS} mục; hãy thu hẹp tìm kiếm theo đơn vị "
                                        "hoặc nhóm.") from None
    except ldap.NO_SUCH_OBJECT:
        return []
    except ldap.LDAPError as exc:
        log.error("LDAP search under %s failed: %s", base, exc)
        raise DirectoryUnavailableError("Máy chủ thư mục (LDAP) không trả lời tìm kiếm; hãy thử lại sau.",
                                        log=f"LDAP search failed: {exc}") from None
    return [(dn, attrs) for dn, attrs in found if dn]


def _first(attrs: Mapping[str, Any], names: Iterable[str]) -> str:
    for name in names:
        if not name:
            continue
        for key, values in attrs.items():
            if key.lower() == name.lower() and values:
                raw = values[0]
                return nfc(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)).strip()
    return ""


def _entries(found: Iterable[tuple[str, dict]], name_attrs: Sequence[str]) -> list[DirectoryEntry]:
    out = [DirectoryEntry(nfc(dn), _first(attrs, name_attrs) or nfc(dn)) for dn, attrs in found]
    return sorted(out, key=lambda e: e.name.casefold())


def list_units(settings: DirectorySettings) -> list[DirectoryEntry]:
    import ldap

    with _Connection(settings) as con:
        found = _search(con, settings.base, ldap.SCOPE_SUBTREE, "(objectClass=organizationalUnit)",
                        ["ou", "description"])
    return _entries(found, ("description", "ou"))


def list_groups(settings: DirectorySettings) -> list[DirectoryEntry]:
    import ldap

    with _Connection(settings) as con:
        found = _search(con, settings.base, ldap.SCOPE_SUBTREE, settings.group_filter, ["cn", "description"])
    return _entries(found, ("description", "cn"))


def _person(settings: DirectorySettings, dn: str, attrs: Mapping[str, Any]) -> DirectoryPerson:
    return DirectoryPerson(
        dn=nfc(dn), full_name=" ".join(_first(attrs, settings.name_attrs).split()),
        email=_first(attrs, [settings.mail_attr]).lower(), department=_first(attrs, [settings.department_attr]),
        position=_first(attrs, [settings.title_attr]), phone=_first(attrs, [settings.phone_attr]),
        username=_first(attrs, [settings.username_attr]).lower() if settings.username_attr else "")


def _person_attrs(settings: DirectorySettings) -> list[str]:
    return [a for a in (*settings.name_attrs, settings.mail_attr, settings.department_attr, settings.title_attr,
                        settings.phone_attr, settings.username_attr) if a]


def search_people(settings: DirectorySettings, *, unit_dn: str = "", group_dn: str = "",
                  text: str = "") -> list[DirectoryPerson]:
    """People under the base, or under one unit, or members of one group; ``text`` filters name and e-mail."""
    import ldap
    from ldap.filter import escape_filter_chars

    base = check_dn(settings, unit_dn) if unit_dn else settings.base
    flt = settings.person_filter
    text = nfc(text or "").strip()[:100]
    if text:
        needle = escape_filter_chars(text)
        names = "".join(f"({a}=*{needle}*)" for a in (*settings.name_attrs, settings.mail_attr))
        flt = f"(&{flt}(|{names}))"
    with _Connection(settings) as con:
        members: set[str] | None = None
        if group_dn:
            group = _search(con, check_dn(settings, group_dn), ldap.SCOPE_BASE, settings.group_filter,
                            ["member", "uniqueMember"])
            if not group:
                raise NotFoundError("Không tìm thấy nhóm này trong thư mục cán bộ.")
            members = {(v.decode() if isinstance(v, bytes) else v).lower()
                       for key, values in group[0][1].items() if key.lower() in ("member", "uniquemember")
                       for v in values}
        found = _search(con, base, ldap.SCOPE_SUBTREE, flt, _person_attrs(settings))
    people = [_person(settings, dn, attrs) for dn, attrs in found
              if members is None or dn.lower() in members]
    return sorted(people, key=lambda p: (p.department.casefold(), p.full_name.casefold()))


def people_by_dn(settings: DirectorySettings, dns: Sequence[str]) -> list[DirectoryPerson]:
    """The chosen people read again from the directory (never from what a form posted)."""
    import ldap

    checked = [check_dn(settings, dn) for dn in dns]
    people = []
    with _Connection(settings) as con:
        for dn in checked:
            found = _search(con, dn, ldap.SCOPE_BASE, settings.person_filter, _person_attrs(settings))
            if not found:
                raise NotFoundError(f"Không còn “{dn}” trong thư mục cán bộ; hãy tìm lại.")
            people.append(_person(settings, found[0][0], found[0][1]))
    return people
