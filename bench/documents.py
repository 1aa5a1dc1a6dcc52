"""Documents benchmark: render, sign and verify through the platform vs the bare libraries.

    .venv/bin/python bench/documents.py [--rounds 30]

Every figure is measured in this run; ratios compare against a baseline run in the same process,
because absolute times on shared machines are noisy. Targets (docs: DESIGN.md):
render ≤ 1.1× bare WeasyPrint, sign ≤ 50 ms, verify ≤ 20 ms per one-page document.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import pathlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import weasyprint  # noqa: E402 (baseline)
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.sign import fields  # noqa: E402 (baseline)
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner  # noqa: E402
from pyhanko.stamp import StaticStampStyle  # noqa: E402

from app.render import (  # noqa: E402
    DocumentRenderInfo,
    document_html,
    render_document,
    render_document_layout,
    render_image_stamp,
)
from app.signing import Pkcs12SignerRef, sign_pdf, verify_pdf  # noqa: E402
from tests.pki import make_pki  # noqa: E402

TARGET_RENDER_RATIO = 1.1
TARGET_SIGN_MS = 50
TARGET_VERIFY_MS = 20


def sample_document() -> DocumentRenderInfo:
    return DocumentRenderInfo(
        governing_body="UBND tỉnh Vĩnh Phúc",
        agency_name="Sở Thông tin và Truyền thông",
        number_notation="15/QĐ-STTTT",
        place="Vĩnh Yên",
        issue_date=dt.date(2026, 11, 5),
        type_name="Quyết định",
        summary="Về việc ban hành Quy chế quản lý văn bản điện tử",
        body=(
            "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác văn thư;",
            "Căn cứ Quyết định số 12/2014/QĐ-UBND của Ủy ban nhân dân tỉnh Vĩnh Phúc;",
            "Theo đề nghị của Chánh Văn phòng Sở.",
        )
        * 3,
        signer_authority="KT. GIÁM ĐỐC",
        signer_position="Phó Giám đốc",
        signer_name="Nguyễn Văn An",
        recipients=("Như Điều 3;", "UBND tỉnh (b/c);", "Lưu: VT, VP."),
    )


def median_ms(fn: Callable[[], object], rounds: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def interleaved_medians(a: Callable[[], object], b: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Alternate the two so that machine noise hits both alike."""
    a(), b()
    sa, sb = [], []
    for _ in range(rounds):
        for fn, sink in ((a, sa), (b, sb)):
            start = time.perf_counter()
            fn()
            sink.append((time.perf_counter() - start) * 1000)
    return statistics.median(sa), statistics.median(sb)


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def bench_render(rounds: int) -> None:
    doc = sample_document()
    html = document_html(doc)
    platform, bare = interleaved_medians(
        lambda: render_document(doc),
        lambda: weasyprint.HTML(string=html).write_pdf(),
        rounds,
    )
    ratio = platform / bare
    print(
        f"render  platform {platform:7.1f} ms | bare WeasyPrint {bare:7.1f} ms | ratio {ratio:.2f} "
        f"(target ≤ {TARGET_RENDER_RATIO}) {verdict(ratio <= TARGET_RENDER_RATIO)}"
    )


def bench_sign_verify(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pki = make_pki(pathlib.Path(tmp))
        rendered = render_document_layout(sample_document())
        box = rendered.signature_box
        assert box is not None
        from PIL import Image, ImageDraw

        image = Image.new("RGBA", (300, 150), (0, 0, 0, 0))
        ImageDraw.Draw(image).line([(10, 120), (100, 20), (200, 130), (290, 30)], fill=(0, 0, 200, 255), width=6)
        png = io.BytesIO()
        image.save(png, format="PNG")
        appearance = render_image_stamp(png.getvalue(), width_mm=60, height_mm=30)
        appearance_path = pathlib.Path(tmp) / "appearance.pdf"
        appearance_path.write_bytes(appearance)
        ref = Pkcs12SignerRef(pki.leader.p12_path, pki.passphrase)

        def platform_sign() -> bytes:
            return sign_pdf(
                rendered.pdf,
                ref,
                field_name="ChuKyLanhDao",
                page=box.page,
                box=box.box,
                appearance_pdf=appearance,
                reason="Phê duyệt",
                location="Vĩnh Phúc",
            )

        # The plain call as dependencies.md §5 measured it: load the key store, sign with pyHanko's
        # defaults, same appearance, same box.
        preloaded = SimpleSigner.load_pkcs12(str(pki.leader.p12_path), passphrase=pki.passphrase.encode())

        def plain_sign(signer: SimpleSigner | None = None) -> bytes:
            if signer is None:
                signer = SimpleSigner.load_pkcs12(str(pki.leader.p12_path), passphrase=pki.passphrase.encode())
            meta = PdfSignatureMetadata(
                field_name="ChuKyLanhDao",
                md_algorithm="sha256",
                subfilter=fields.SigSeedSubFilter.PADES,
                reason="Phê duyệt",
                location="Vĩnh Phúc",
            )
            out = io.BytesIO()
            PdfSigner(
                meta,
                signer,
                stamp_style=StaticStampStyle.from_pdf_file(str(appearance_path), border_width=0),
                new_field_spec=fields.SigFieldSpec("ChuKyLanhDao", on_page=box.page, box=box.box),
            ).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(rendered.pdf)), output=out)
            return out.getvalue()

        platform, plain = interleaved_medians(platform_sign, plain_sign, rounds)
        print(
            f"sign    platform {platform:7.1f} ms | plain pyHanko   {plain:7.1f} ms | ratio {platform / plain:.2f} "
            f"(target ≤ {TARGET_SIGN_MS} ms) {verdict(platform <= TARGET_SIGN_MS)}"
        )
        warm = median_ms(lambda: plain_sign(preloaded), rounds)
        print(f"        plain pyHanko with the PKCS#12 already loaded: {warm:.1f} ms (ratio {platform / warm:.2f})")

        signed = platform_sign()
        roots = [pki.root.cert_der]
        assert verify_pdf(signed, roots).status == "valid"
        verify = median_ms(lambda: verify_pdf(signed, roots), rounds)
        baseline_signed = plain_sign()
        baseline_verify = median_ms(lambda: verify_pdf(baseline_signed, roots), rounds)
        print(
            f"verify  platform-signed {verify:6.1f} ms | plain-pyHanko-signed {baseline_verify:6.1f} ms "
            f"(target ≤ {TARGET_VERIFY_MS} ms) {verdict(verify <= TARGET_VERIFY_MS)}"
        )


def bench_concurrent_registrations(rounds: int, clients: int = 20) -> None:
    """20 clerks register at once through app.documents.services on PostgreSQL (``DATABASE_URL``).

    Checks that the numbers are 1..20, each once, and compares the wall time of the concurrent batch
    with the same 20 registrations done one after another (ratio > 1: the row lock lets work overlap).
    """
    import os
    import secrets
    import threading

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgresql", "postgres")):
        print("registrations  skipped: set DATABASE_URL=postgresql://… (the target is PostgreSQL)")
        return
    from sqlalchemy import select

    from app import create_app
    from app.cli.main import run_init
    from app.documents import services
    from app.documents.models import Document
    from app.documents.workflow_ops import register_operations
    from app.extensions import db
    from app.tenancy.accounts import create_staff_account
    from app.tenancy.definitions import AgencyDef, DepartmentDef, PositionDef
    from app.tenancy.queries import agency_by_code
    from app.tenancy.services import import_agency
    from app.workflow.info import ActorRef
    from app.workflow.operations import registered_operations
    from app.workflow.services import publish_version
    from tests.support.db import fresh_database_url

    with tempfile.TemporaryDirectory() as tmp, fresh_database_url(pathlib.Path(tmp)) as db_url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": db_url.replace("postgresql://", "postgresql+psycopg://"),
                          "SECRET_KEY": "bench-" + "x" * 40, "QLVB_INSTANCE_DIR": tmp,
                          "QLVB_UPLOAD_DIR": f"{tmp}/files", "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": clients + 2}})
        with app.app_context():
            run_init()
            register_operations()

            def new_agency() -> tuple[int, ActorRef]:
                code = f"bench{secrets.token_hex(3)}"
                import_agency(AgencyDef(
                    code=code, name="Sở Đo đạc", short_name="Sở Đo đạc", abbreviation="SĐĐ", governing_body=None,
                    domain=f"{code}.vinhphuc.gov.vn", org_identifier=None, kind="so", place="Vĩnh Yên",
                    is_central=False, numbering_policy="single",
                    positions=(PositionDef("vt", "Văn thư", "clerk"),), departments=(DepartmentDef("vp", "VP", "VP"),)))
                db.session.flush()
                agency = agency_by_code(code)
                assert agency is not None
                xml = (ROOT / "processes" / "templates" / "incoming.bpmn").read_text(encoding="utf-8")
                publish_version(agency.id, "incoming", xml, by_user_id=None, note="", known_roles={
                    "clerk", "leader", "head", "specialist"}, known_forms=None,
                    known_operations=registered_operations())
                staff = create_staff_account(agency_code=code, full_name="Văn thư", email=f"vt@{code}.vn",
                                             roles=["clerk"], password="Pw@" + secrets.token_hex(8))
                db.session.commit()
                return agency.id, ActorRef(staff.user_id, agency.id, frozenset({"clerk"}))

            def data(i: int) -> dict[str, object]:
                return {"doc_type": "cong_van", "number_notation": f"{i}/UBND-VX", "issuer_name": "UBND tỉnh",
                        "issue_date": dt.date(2026, 11, 2), "summary": f"Văn bản thứ {i}"}

            def one(agency_id: int, actor: ActorRef, i: int) -> int:
                with app.app_context():
                    info = services.register_incoming(agency_id, actor=actor, data=data(i))
                    db.session.commit()
                    db.session.remove()
                    return int(info.number or 0)

            sequential_agency, sequential_actor = new_agency()
            start = time.perf_counter()
            for i in range(clients):
                one(sequential_agency, sequential_actor, i)
            sequential = (time.perf_counter() - start) * 1000

            agency_id, actor = new_agency()
            barrier = threading.Barrier(clients)
            numbers: list[int] = []

            failures: list[str] = []

            def worker(i: int) -> None:
                barrier.wait()
                try:
                    numbers.append(one(agency_id, actor, i))
                except Exception as exc:  # reported with the verdict
                    failures.append(f"{type(exc).__name__}: {exc}"[:900])

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            concurrent = (time.perf_counter() - start) * 1000
            stored = sorted(db.session.scalars(select(Document.number).where(Document.agency_id == agency_id)))
            ok = sorted(numbers) == stored == list(range(1, clients + 1))
            print(
                f"registrations {clients} concurrent {concurrent:7.1f} ms ({concurrent / clients:5.1f} ms each) | "
                f"sequential {sequential:7.1f} ms | ratio {sequential / concurrent:.2f} | numbers 1..{clients} unique "
                f"and gap-free: {verdict(ok)}"
            )
            for failure in sorted(set(failures)):
                print(f"        failed registration: {failure}")
            db.session.remove()
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    bench_render(args.rounds)
    bench_sign_verify(args.rounds)
    bench_concurrent_registrations(args.rounds)


if __name__ == "__main__":
    main()
