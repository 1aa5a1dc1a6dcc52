"""Chart data inside <script type="application/json"> is written with tojson: a name cannot close the element."""

from __future__ import annotations

import json
import re

EVIL = "Sở </script><script>alert(1)</script> Thử"


def test_an_agency_name_cannot_break_out_of_the_chart_data(make_agency, make_account, logged_in):
    make_agency(name=EVIL)
    soict = logged_in(make_account("qlvb", ["soict_admin"]))
    body = soict.get("/usage/?kind=year").get_data(as_text=True)
    assert "<script>alert(1)" not in body
    data = re.search(r'<script type="application/json" id="chart-use">(.*?)</script>', body, re.S).group(1)
    assert EVIL in json.loads(data)["data"]["labels"]
