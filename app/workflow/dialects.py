"""Read what other modelers write for the same idea, so their diagrams run without hand edits.

Camunda Modeler puts a user task's form in ``camunda:formKey="…"``; QLVB reads
``spiffworkflow:properties/property[@name=formKey]``. Only this unambiguous mapping is done; everything
else a foreign diagram carries is left for validation to accept or refuse.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from app.workflow.loader import BPMN_NS, NS, SPIFF_NS, parse_xml

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"


@dataclass(frozen=True)
class DialectResult:
    xml: str
    notes: tuple[str, ...]


def adapt_foreign_dialects(xml: str) -> DialectResult:
    root = parse_xml(xml)
    notes: list[str] = []
    for task in root.iter(f"{{{BPMN_NS}}}userTask"):
        form_key = (task.get(f"{{{CAMUNDA_NS}}}formKey") or "").strip()
        if not form_key:
            continue
        existing = task.find("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name='formKey']",
                             NS)
        if existing is not None:
            continue
        ext = task.find("bpmn:extensionElements", NS)
        if ext is None:
            ext = etree.Element(f"{{{BPMN_NS}}}extensionElements")
            task.insert(0, ext)
        props = ext.find("spiffworkflow:properties", NS)
        if props is None:
            props = etree.SubElement(ext, f"{{{SPIFF_NS}}}properties", nsmap={"spiffworkflow": SPIFF_NS})
        etree.SubElement(props, f"{{{SPIFF_NS}}}property", name="formKey", value=form_key)
        name = (task.get("name") or task.get("id") or "").strip()
        notes.append(f'Bước "{name}": dùng biểu mẫu "{form_key}" (từ camunda:formKey)')
    if not notes:
        return DialectResult(xml, ())
    text = etree.tostring(root, encoding="unicode")
    return DialectResult('<?xml version="1.0" encoding="UTF-8"?>\n' + text, tuple(notes))
