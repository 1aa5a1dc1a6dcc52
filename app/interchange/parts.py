"""Writing and reading the pieces both messages share (organs, staff, ResponseFor), element by element."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from app.core.text import nfc

from .fields import check_document_id, check_organ_id, format_date, parse_date, refuse
from .model import OrganInfo, ResponseForInfo, StaffInfo
from .xmlio import NS


def sub(parent: etree._Element, name: str, value: str | int | None, path: str) -> etree._Element:
    """Append <edXML:name>value</edXML:name>; text that XML cannot carry is refused with the field's name."""
    element = etree.SubElement(parent, NS + name)
    if value is not None:
        text = nfc(value.strip()) if isinstance(value, str) else str(value)
        try:
            element.text = text
        except ValueError:
            raise refuse(f"{path}/{name}", "chứa ký tự điều khiển không được phép trong XML") from None
    return element


def sub_optional(parent: etree._Element, name: str, value: str | int | None, path: str) -> None:
    if value is not None and value != "":
        sub(parent, name, value, path)


def write_organ(parent: etree._Element, name: str, organ: OrganInfo, path: str) -> None:
    element = etree.SubElement(parent, NS + name)
    check_organ_id(organ.organ_id, f"{path}/OrganId")
    sub(element, "OrganId", organ.organ_id, path)
    for tag, value in (
        ("OrganizationInCharge", organ.organization_in_charge),
        ("OrganName", organ.organ_name),
        ("OrganAdd", organ.organ_add),
        ("Email", organ.email),
        ("Telephone", organ.telephone),
        ("Fax", organ.fax),
        ("Website", organ.website),
    ):
        sub_optional(element, tag, value, path)


def write_staff(parent: etree._Element, staff: StaffInfo, path: str) -> None:
    element = etree.SubElement(parent, NS + "StaffInfo")
    for tag, value in (
        ("Department", staff.department),
        ("Staff", staff.staff),
        ("Mobile", staff.mobile),
        ("Email", staff.email),
    ):
        sub_optional(element, tag, value, f"{path}/StaffInfo")


def write_response_for(parent: etree._Element, response: ResponseForInfo, path: str) -> None:
    element = etree.SubElement(parent, NS + "ResponseFor")
    sub(element, "OrganId", response.organ_id, path)
    sub_optional(element, "Code", response.code, path)
    if response.promulgation_date is not None:
        sub(element, "PromulgationDate", format_date(response.promulgation_date), path)
    sub_optional(element, "DocumentId", response.document_id, path)


# Reading: the schema has already vouched for structure and formats; these turn text into values and check
# what a pattern cannot (that a date exists).


def child(element: etree._Element, name: str) -> etree._Element | None:
    return element.find(NS + name)


def text(element: etree._Element | None, name: str | None = None) -> str:
    if element is not None and name is not None:
        element = element.find(NS + name)
    if element is None or element.text is None:
        return ""
    return nfc(element.text.strip())


def texts(parent: etree._Element | None, name: str) -> tuple[str, ...]:
    """The non-empty texts of ``parent``'s children called ``name``."""
    if parent is None:
        return ()
    return tuple(value for element in parent.findall(NS + name) if (value := text(element)))


def integer(element: etree._Element, name: str) -> int | None:
    value = text(element, name)
    return int(value) if value else None


def date(element: etree._Element, name: str, path: str) -> dt.date | None:
    value = text(element, name)
    return parse_date(value, f"{path}/{name}") if value else None


def read_organ(element: etree._Element, path: str) -> OrganInfo:
    return OrganInfo(
        organ_id=text(element, "OrganId"),
        organ_name=text(element, "OrganName"),
        organization_in_charge=text(element, "OrganizationInCharge"),
        organ_add=text(element, "OrganAdd"),
        email=text(element, "Email"),
        telephone=text(element, "Telephone"),
        fax=text(element, "Fax"),
        website=text(element, "Website"),
    )


def read_staff(element: etree._Element | None) -> StaffInfo | None:
    if element is None:
        return None
    return StaffInfo(
        department=text(element, "Department"),
        staff=text(element, "Staff"),
        mobile=text(element, "Mobile"),
        email=text(element, "Email"),
    )


def read_response_for(element: etree._Element, path: str) -> ResponseForInfo:
    document_id = text(element, "DocumentId")
    if document_id:
        check_document_id(document_id, f"{path}/DocumentId")
    return ResponseForInfo(
        organ_id=text(element, "OrganId"),
        code=text(element, "Code"),
        promulgation_date=date(element, "PromulgationDate", path),
        document_id=document_id,
    )


def indexed(path: str, name: str, index: int, count: int) -> str:
    return f"{path}/{name}[{index + 1}]" if count > 1 else f"{path}/{name}"
