from app.tenancy.hosts import candidate_codes, host_to_code

KW = {"domain_suffix": "vinhphuc.gov.vn", "local_suffix": "localhost", "central_host": "qlvb.vinhphuc.gov.vn"}


def test_production_domain_maps_to_agency_code():
    assert host_to_code("isotttt.vinhphuc.gov.vn", **KW).code == "isotttt"
    assert host_to_code("ISOTTTT.VinhPhuc.gov.vn:443", **KW).code == "isotttt"


def test_local_names_with_and_without_the_i_prefix():
    assert candidate_codes(host_to_code("isotttt.localhost:5000", **KW)) == ("isotttt",)
    assert candidate_codes(host_to_code("sotttt.localhost", **KW)) == ("sotttt", "isotttt")


def test_central_domain_and_bare_localhost_are_soict():
    assert host_to_code("qlvb.vinhphuc.gov.vn", **KW).code == "qlvb"
    assert host_to_code("qlvb.localhost:8080", **KW).code == "qlvb"
    assert host_to_code("127.0.0.1:5000", **KW).code == "qlvb"


def test_foreign_or_malformed_hosts_resolve_to_nothing():
    for host in ("evil.example.org", "a.b.vinhphuc.gov.vn", "vinhphuc.gov.vn", "", "..localhost", "x_y.localhost"):
        assert host_to_code(host, **KW).code is None, host
