"""Hostile definitions are refused by the adapters that parse them (app.workflow, app.forms)."""

import time

import pytest

from app.core.errors import DomainError
from app.forms.definitions import FormDefinitionError, parse_form_definition
from app.workflow.errors import DiagramInvalidError
from app.workflow.loader import MAX_DIAGRAM_BYTES, parse_xml

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">&lol4;</process></definitions>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p" name="&xxe;"/></definitions>"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd">
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>"""

PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x"> %p;]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, PARAMETER_ENTITY],
                         ids=["billion-laughs", "external-entity", "external-dtd", "parameter-entity"])
def test_hostile_bpmn_is_refused_quickly_with_a_vietnamese_reason(xml):
    started = time.monotonic()
    with pytest.raises(DiagramInvalidError) as info:
        parse_xml(xml)
    assert time.monotonic() - started < 1
    assert "DTD/thực thể XML" in str(info.value)


def test_oversized_bpmn_is_refused_before_parsing():
    xml = "<definitions>" + "<!-- x -->" * (MAX_DIAGRAM_BYTES // 10 + 1) + "</definitions>"
    with pytest.raises(DiagramInvalidError) as info:
        parse_xml(xml)
    assert "quá lớn" in str(info.value)


def test_malformed_bpmn_names_the_line():
    with pytest.raises(DiagramInvalidError) as info:
        parse_xml("<definitions>\n<process>\n</definitions>")
    assert "dòng" in str(info.value)


def test_huge_yaml_form_is_refused():
    text = "title: Biểu mẫu\nfields:\n" + "".join(f"  - name: f{i}\n    label: Trường {i}\n    type: text\n"
                                               for i in range(8000))
    with pytest.raises(FormDefinitionError) as info:
        parse_form_definition(text, "qua_lon")
    assert "quá lớn" in str(info.value)


def test_yaml_alias_bomb_is_refused_or_harmless():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    prev = "a"
    for name in "bcdefghi":
        bomb += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]\n"
        prev = name
    bomb += f"title: Bom\nfields: *{prev}\n"
    started = time.monotonic()
    with pytest.raises(DomainError):
        parse_form_definition(bomb, "bom_yaml")
    assert time.monotonic() - started < 5


def test_python_object_tags_are_not_constructed():
    text = "title: !!python/object/apply:os.system ['echo pwned']\nfields: []\n"
    with pytest.raises(FormDefinitionError):
        parse_form_definition(text, "the_python")
