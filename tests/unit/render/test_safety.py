from __future__ import annotations

import base64

import pytest

from app.core.errors import DomainError
from app.render import (
    AssetRefusedError,
    TemplateSyntaxError,
    TemplateUnsafeError,
    render_pdf,
    render_template_pdf,
)
from tests.unit.render.conftest import pdf_text, png

PNG_1PX = png((0, 0, 200, 255), (8, 8))


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/logo.png",
        "https://169.254.169.254/latest/meta-data",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "qlvb-asset:not-given",
        "qlvb-static:../../../../etc/passwd",
        "qlvb-font:../../../etc/passwd",
    ],
)
@pytest.mark.parametrize("tag", ["img", "stylesheet"])
def test_network_and_local_files_are_refused(url, tag):
    html = f'<img src="{url}">' if tag == "img" else f'<link rel="stylesheet" href="{url}"><p>x</p>'
    with pytest.raises(AssetRefusedError) as caught:
        render_pdf(html)
    assert isinstance(caught.value, DomainError)
    assert "không được phép" in caught.value.message


def test_css_url_and_font_face_are_refused():
    with pytest.raises(AssetRefusedError):
        render_pdf("<p>x</p>", stylesheets=['@font-face { font-family: X; src: url("file:///etc/passwd"); }'])
    with pytest.raises(AssetRefusedError):
        render_pdf('<p style="background: url(http://example.com/a.png)">x</p>')


def test_named_assets_and_data_urls_load():
    pdf = render_pdf(
        '<img src="qlvb-asset:logo.png">'
        f'<img src="data:image/png;base64,{base64.b64encode(PNG_1PX).decode()}">'
        "<p>Có logo</p>",
        assets={"logo.png": PNG_1PX},
    )
    assert pdf.count(b"/Subtype /Image") >= 2  # each image (+ its alpha mask)
    assert "Có logo" in pdf_text(pdf)


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "{{ (1).__class__.__base__ }}",
        "{{ doc.format.__globals__ }}",
    ],
)
def test_templates_cannot_reach_python_internals(source):
    with pytest.raises(TemplateUnsafeError) as caught:
        render_template_pdf(source, {"doc": "x"})
    assert caught.value.message == "Mẫu văn bản truy cập thành phần không được phép"


def test_template_output_is_autoescaped():
    pdf = render_template_pdf("<p>{{ name }}</p>", {"name": "<b>Lê Thị Hồng</b>"})
    assert "<b>Lê Thị Hồng</b>" in pdf_text(pdf)


def test_broken_template_reports_the_line():
    with pytest.raises(TemplateSyntaxError) as caught:
        render_template_pdf("<p>\n{% if x %}</p>", {"x": 1})
    assert caught.value.field_errors["template"][0].startswith("Dòng ")
