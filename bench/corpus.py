"""A scratch PostgreSQL database with a province's worth of documents, instances and tasks (bench only).

Everything is generated inside PostgreSQL with INSERT … SELECT generate_series: realistic Vietnamese
summaries are drawn from word lists (with diacritics), folded into ``search_text`` by the same immutable
``qlvb_fold`` the migration installs. setseed() makes every run produce the same corpus.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"

TYPES = [("Công văn", None), ("Quyết định", "QĐ"), ("Kế hoạch", "KH"), ("Báo cáo", "BC"), ("Thông báo", "TB"),
         ("Tờ trình", "TTr"), ("Giấy mời", "GM"), ("Hướng dẫn", "HD"), ("Chỉ thị", "CT"), ("Chương trình", "CTr")]
VERBS = ["triển khai", "phê duyệt", "tăng cường", "hướng dẫn thực hiện", "đôn đốc", "báo cáo kết quả",
         "tổ chức", "kiểm tra", "rà soát", "góp ý dự thảo", "đề nghị phối hợp", "ban hành quy chế",
         "sửa đổi, bổ sung", "tổng kết", "xây dựng", "giao chỉ tiêu", "điều chỉnh", "công bố", "thành lập",
         "kiện toàn", "chấn chỉnh", "đẩy mạnh", "tạm ứng kinh phí", "phân bổ dự toán", "thẩm định",
         "cho ý kiến về", "gia hạn", "hủy bỏ", "bãi bỏ", "thanh tra"]
TOPICS = ["kế hoạch chuyển đổi số", "công tác phòng chống thiên tai", "dự toán ngân sách nhà nước",
          "chương trình mục tiêu quốc gia xây dựng nông thôn mới", "cải cách hành chính", "phòng cháy chữa cháy",
          "an toàn thông tin mạng", "quy hoạch sử dụng đất", "tiêm chủng mở rộng", "bảo hiểm y tế học sinh",
          "tuyển dụng công chức", "thi đua khen thưởng", "giải phóng mặt bằng", "đầu tư công trung hạn",
          "kiểm soát thủ tục hành chính", "dịch vụ công trực tuyến toàn trình", "hội nghị trực tuyến",
          "an toàn giao thông đường bộ", "bảo vệ môi trường làng nghề", "phòng chống dịch bệnh truyền nhiễm",
          "giáo dục nghề nghiệp", "chất lượng nông sản", "chữ ký số chuyên dùng", "hồ sơ công việc điện tử",
          "lưu trữ tài liệu", "cơ sở dữ liệu dân cư", "đề án 06", "định danh điện tử", "phổ cập giáo dục",
          "xóa nhà tạm, nhà dột nát", "giảm nghèo bền vững", "khuyến công", "xúc tiến đầu tư", "du lịch tâm linh",
          "phòng chống tham nhũng", "tiếp công dân", "giải quyết khiếu nại, tố cáo", "kiểm kê đất đai",
          "quản lý tài sản công", "mua sắm tập trung", "vệ sinh an toàn thực phẩm", "bình đẳng giới",
          "công tác dân vận", "phát triển thanh niên", "quốc phòng toàn dân", "tuyển quân", "điện lưới nông thôn",
          "nước sạch nông thôn", "hạ tầng khu công nghiệp", "chỉ số năng lực cạnh tranh cấp tỉnh"]
WHEN = ["năm 2024", "năm 2025", "năm 2026", "quý I", "quý II", "quý III", "quý IV", "6 tháng đầu năm",
        "giai đoạn 2021-2025", "giai đoạn 2026-2030", "đợt 1", "đợt 2", "tháng 3", "tháng 9", "tháng 12"]
PLACES = ["trên địa bàn tỉnh Vĩnh Phúc", "huyện Yên Lạc", "thành phố Vĩnh Yên", "thành phố Phúc Yên",
          "huyện Tam Đảo", "huyện Lập Thạch", "huyện Sông Lô", "huyện Tam Dương", "huyện Bình Xuyên",
          "huyện Vĩnh Tường", "các sở, ban, ngành", "các cơ quan, đơn vị", "các xã, phường, thị trấn"]
ISSUERS = ["UBND tỉnh Vĩnh Phúc", "Văn phòng UBND tỉnh", "Bộ Thông tin và Truyền thông", "Văn phòng Chính phủ",
           "Bộ Nội vụ", "Sở Tài chính", "Sở Kế hoạch và Đầu tư", "Sở Nội vụ", "Sở Y tế", "Công an tỉnh",
           "Bộ Tài chính", "Tỉnh ủy Vĩnh Phúc", "HĐND tỉnh Vĩnh Phúc", "Sở Giáo dục và Đào tạo"]
SIGNERS = ["Nguyễn Văn Khước", "Trần Thị Hương", "Lê Duy Thành", "Phạm Hoàng Anh", "Đỗ Thị Ngọc Ánh",
           "Vũ Chí Giang", "Hoàng Minh Đức", "Bùi Thị Thu Hằng", "Đặng Quốc Việt", "Ngô Thanh Tùng"]
BODY = ["Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015",
        "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác văn thư",
        "Đề nghị các cơ quan, đơn vị nghiêm túc triển khai thực hiện, báo cáo kết quả trước ngày 15 hằng tháng",
        "Trong quá trình thực hiện nếu có vướng mắc, phản ánh về Sở Thông tin và Truyền thông để tổng hợp",
        "Giao Văn phòng chủ trì, phối hợp với các phòng chuyên môn theo dõi, đôn đốc việc thực hiện",
        "Kinh phí thực hiện từ nguồn ngân sách nhà nước được giao trong dự toán hằng năm",
        "Quyết định này có hiệu lực kể từ ngày ký",
        "Thủ trưởng các cơ quan, đơn vị và cá nhân có liên quan chịu trách nhiệm thi hành",
        "Yêu cầu bảo đảm an toàn, an ninh thông tin trong quá trình vận hành hệ thống",
        "Tổ chức tuyên truyền sâu rộng đến cán bộ, công chức, viên chức và người dân"]


def sql_array(words: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + w.replace("'", "''") + "'" for w in words) + "]::text[]"


def _pick(arr: str, n: int) -> str:
    """A random element of a SQL array literal (1-based)."""
    return f"({arr})[1 + floor(random() * {n})::int]"


@contextlib.contextmanager
def scratch_database(base_url: str, *, reuse: str | None = None, drop: bool = True) -> Iterator[str]:
    """A fresh database on ``base_url``'s server (never the tests' one), dropped afterwards unless told not to."""
    plain = base_url.replace("postgresql+psycopg://", "postgresql://")
    server = plain.rsplit("/", 1)[0]
    if reuse:
        yield f"{server}/{reuse}"
        return
    name = f"qlvb_bench_{secrets.token_hex(4)}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        if drop:
            with psycopg.connect(plain, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            print(f"kept database {name} (reuse with --keep-db {name})")


def make_app(url: str) -> Any:
    from app import create_app

    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"qlvb-bench-{os.getpid()}"
    return create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
                       "SECRET_KEY": "bench-" + "x" * 40, "QLVB_INSTANCE_DIR": str(tmp),
                       "QLVB_UPLOAD_DIR": str(tmp / "files"), "TESTING": True})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every corpus benchmark takes: its size and reusing a generated corpus."""
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--keep-db", help="reuse this scratch database (made with --no-drop)")
    parser.add_argument("--no-drop", action="store_true", help="keep the scratch database and print its name")


def run_on_corpus(args: argparse.Namespace, run: Callable[[argparse.Namespace], None]) -> None:
    """Generate the corpus in a scratch database on DATABASE_URL's server (unless reused), then ``run(args)``."""
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    with scratch_database(url, reuse=args.keep_db, drop=not args.no_drop) as db_url:
        app = make_app(db_url)
        if not args.keep_db:
            started = time.perf_counter()
            with app.app_context():
                migrate()
            generate(db_url, args.documents)
            print(f"corpus ready in {time.perf_counter() - started:.0f} s ({db_url.rsplit('/', 1)[1]})")
        with app.app_context():
            run(args)


def migrate() -> None:
    """The real schema: the app's migrations and 35 agencies (``flask qlvb init``), inside an app context."""
    from app.cli.main import run_init

    run_init()


def _timed(conn: psycopg.Connection[Any], label: str, sql: str, params: Any = None) -> None:
    t = time.perf_counter()
    conn.execute(sql, params)
    print(f"  {label}: {time.perf_counter() - t:.1f} s", flush=True)


def generate(url: str, documents: int, *, tasks_per_document: int = 2, users_per_agency: int = 12) -> None:
    """Fill the scratch database: users, documents, one instance per document, tasks, signed attachments."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET synchronous_commit = off")
        conn.execute("SELECT setseed(0.42)")
        agencies = [r[0] for r in conn.execute(
            "SELECT id FROM agency WHERE NOT is_central AND code NOT LIKE 'itest%' ORDER BY id")]
        print(f"generating {documents:,} documents across {len(agencies)} agencies", flush=True)
        # Indexes are dropped during the load and rebuilt from their own definitions afterwards.
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('document','process_instance',"
            "'human_task','attachment') AND indexname NOT LIKE '%pkey' AND indexdef NOT LIKE '%UNIQUE%'").fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        _users(conn, agencies, users_per_agency)
        _documents(conn, agencies, documents)
        _instances_and_tasks(conn, tasks_per_document)
        # The documents chose which of them carry a signed file (signed_at, as the app records it).
        _timed(conn, "signed attachments", """
            INSERT INTO attachment (document_id, filename, content_type, size, sha256, storage_key, kind,
                                    created_at, verification_status)
            SELECT id, 'van-ban.pdf', 'application/pdf', 120000, md5(id::text) || md5(id::text),
                   'bench/' || id, 'signed', signed_at, CASE WHEN direction = 'incoming' THEN 'valid' END
            FROM document WHERE signed_at IS NOT NULL""")
        for name, definition in indexes:
            _timed(conn, f"index {name}", definition)
        _timed(conn, "vacuum analyze", "VACUUM ANALYZE")


def _users(conn: psycopg.Connection[Any], agencies: list[int], per_agency: int) -> None:
    conn.execute("""
        INSERT INTO ab_user (first_name, last_name, username, email, active, created_on, changed_on)
        SELECT 'Cán bộ', 'Số ' || g, 'bench' || a || '_' || g || '@bench.vn', 'bench' || a || '_' || g || '@bench.vn',
               true, now(), now()
        FROM unnest(%s::int[]) AS a, generate_series(1, %s) AS g""", (agencies, per_agency))
    conn.execute("""
        INSERT INTO staff (user_id, agency_id, department_id, full_name, email, active)
        SELECT u.id, split_part(substr(u.username, 6), '_', 1)::int,
               (SELECT d.id FROM department d WHERE d.agency_id = split_part(substr(u.username, 6), '_', 1)::int
                ORDER BY d.id OFFSET (split_part(split_part(u.username, '_', 2), '@', 1)::int % 3) LIMIT 1),
               'Cán bộ ' || u.id, u.email, true
        FROM ab_user u WHERE u.username LIKE 'bench%'""")


def _documents(conn: psycopg.Connection[Any], agencies: list[int], documents: int) -> None:
    type_names = sql_array([t for t, _ in TYPES])
    type_abbr = sql_array([a or "" for _, a in TYPES])
    body = sql_array(BODY)
    # Only constant word lists are formatted into the SQL; the numbers travel as parameters.
    sql = f"""
        WITH src AS (
          SELECT g,
                 (%(agencies)s::int[])[1 + (g %% %(n_agencies)s)] AS agency_id,
                 CASE WHEN random() < 0.55 THEN 'incoming' ELSE 'outgoing' END AS direction,
                 1 + floor(random() * {len(TYPES)})::int AS t,
                 DATE '2024-01-01' + floor(random() * 1061)::int AS day,
                 {_pick(sql_array(VERBS), len(VERBS))} AS verb,
                 {_pick(sql_array(TOPICS), len(TOPICS))} AS topic,
                 {_pick(sql_array(WHEN), len(WHEN))} AS period,
                 {_pick(sql_array(PLACES), len(PLACES))} AS place,
                 {_pick(sql_array(ISSUERS), len(ISSUERS))} AS issuer,
                 {_pick(sql_array(SIGNERS), len(SIGNERS))} AS signer,
                 {_pick(body, len(BODY))} || '. ' || {_pick(body, len(BODY))} || '. ' || {_pick(body, len(BODY))}
                   AS body,
                 random() AS r
          FROM generate_series(1, %(documents)s) AS g
        ), doc AS (
          SELECT s.*, ({type_names})[t] AS type_name,
                 g || '/' || CASE WHEN ({type_abbr})[t] = '' THEN 'UBND-VP' ELSE ({type_abbr})[t] || '-UBND' END
                   AS number_notation,
                 'V/v ' || verb || ' ' || topic || ' ' || period || ' ' || place AS summary
          FROM src s
        )
        INSERT INTO document (agency_id, direction, status, year, number, doc_type_id, number_notation, issuer_name,
                              issue_date, summary, body, signer_name, pages, urgency, confidentiality,
                              recipient_agency_codes, due_date, arrival_date, received_at, registered_at,
                              back_entered, channel, created_at, updated_at, issued_at, signature_status,
                              signed_at, search_text)
        SELECT agency_id, direction,
               CASE WHEN direction = 'incoming'
                    THEN (ARRAY['done','done','done','done','in_progress','registered'])[1 + floor(r * 6)::int]
                    ELSE (ARRAY['issued','delivered','delivered','approved'])[1 + floor(r * 4)::int] END,
               extract(year FROM day)::int, g,
               (SELECT id FROM document_type dt WHERE dt.name = type_name LIMIT 1),
               number_notation, CASE WHEN direction = 'incoming' THEN issuer ELSE NULL END,
               day - CASE WHEN direction = 'incoming' THEN 2 ELSE 0 END, summary, body, signer,
               1 + floor(random() * 6)::int, CASE WHEN r < 0.05 THEN 'khan' ELSE 'thuong' END, 'thuong', '[]',
               CASE WHEN direction = 'incoming' AND r < 0.45 THEN day + 10 END,
               CASE WHEN direction = 'incoming' THEN day END,
               CASE WHEN direction = 'incoming' THEN day + time '08:00' END,
               CASE WHEN direction = 'incoming' THEN day + time '09:00' END,
               false,
               CASE WHEN direction = 'incoming' THEN (CASE WHEN random() < 0.85 THEN 'electronic' ELSE 'paper' END) END,
               day + time '08:00', day + time '08:00',
               CASE WHEN direction = 'outgoing' AND r < 0.97 THEN day + time '15:00' END,
               CASE WHEN r < 0.6 THEN 'valid' END,
               -- Seven in ten carry a signed file (from the time it was issued or registered); hashed from g rather
               -- than drawn with random(), so every other column is the same as before signed_at existed.
               CASE WHEN mod(hashint4(g)::bigint + 2147483648, 1000) < 700
                    THEN CASE WHEN direction = 'outgoing' AND r < 0.97 THEN day + time '15:00'
                              WHEN direction = 'incoming' THEN day + time '09:00' ELSE day + time '08:00' END END,
               qlvb_fold(concat_ws(' ', type_name, number_notation, issuer, summary, signer, body))
        FROM doc"""  # noqa: S608
    _timed(conn, "documents", sql, {"agencies": agencies, "n_agencies": len(agencies), "documents": documents})


def _instances_and_tasks(conn: psycopg.Connection[Any], tasks_per_document: int) -> None:
    for key in ("incoming", "outgoing"):
        conn.execute("""
            INSERT INTO process_version (agency_id, process_key, number, bpmn_xml, sha256, created_at, note, status)
            SELECT NULL, %s, 999, '<bench/>', repeat('0', 64), now(), 'bench', 'published'
            WHERE NOT EXISTS (SELECT 1 FROM process_version WHERE process_key = %s AND agency_id IS NULL)""",
                     (key, key))
    _timed(conn, "process instances", """
        INSERT INTO process_instance (agency_id, process_key, version_id, subject_type, subject_id, status, revision,
                                      started_at, completed_at, updated_at, state_meta, meta)
        SELECT d.agency_id, d.direction,
               (SELECT id FROM process_version v WHERE v.process_key = d.direction ORDER BY agency_id NULLS FIRST
                LIMIT 1),
               d.direction, d.id, CASE WHEN d.status IN ('done','issued','delivered') THEN 'completed' ELSE 'running'
               END, 1, d.created_at,
               CASE WHEN d.status IN ('done','issued','delivered') THEN d.created_at + interval '1 day' * (1 +
                    floor(random() * 14)) END, d.created_at, '{}', '{}'
        FROM document d""")
    _timed(conn, "human tasks", """
        WITH staff_by_agency AS (
          SELECT agency_id, array_agg(user_id ORDER BY user_id) AS users FROM staff GROUP BY agency_id
        )
        INSERT INTO human_task (agency_id, instance_id, task_uuid, bpmn_id, name, process_key, subject_type,
                                subject_id, candidate_role, state, due_at, created_at, completed_at, completed_by_id)
        SELECT i.agency_id, i.id, md5(i.id::text || '-' || k), 'task_' || k, 'Bước ' || k, i.process_key,
               i.subject_type, i.subject_id, 'specialist',
               CASE WHEN i.status = 'completed' OR k < %(k)s THEN 'done' ELSE 'open' END,
               i.started_at + interval '1 day' * (3 * k),
               i.started_at + interval '1 day' * (k - 1),
               CASE WHEN i.status = 'completed' OR k < %(k)s
                    THEN i.started_at + interval '1 hour' * (24 * (k - 1) + floor(random() * 120)) END,
               CASE WHEN i.status = 'completed' OR k < %(k)s
                    THEN s.users[1 + floor(random() * array_length(s.users, 1))::int] END
        FROM process_instance i JOIN staff_by_agency s ON s.agency_id = i.agency_id,
             generate_series(1, %(k)s) AS k""", {"k": tasks_per_document})
