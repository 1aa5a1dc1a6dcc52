import datetime as dt

from app.core.fields import date_field, parse_date, text_field


def test_date_inputs_vietnamese_writing_and_date_values():
    day = dt.date(2026, 3, 5)
    assert parse_date("2026-03-05") == parse_date(" 05/03/2026 ") == day
    assert parse_date("2026-03-05T08:30") == day  # a datetime input's text keeps its day
    assert parse_date(dt.datetime(2026, 3, 5, 23, 59)) == parse_date(day) == day
    assert parse_date("5 tháng 3") is None and parse_date("31/02/2026") is None


def test_form_field_reports_unreadable_and_missing_dates():
    errors: dict[str, list[str]] = {}
    assert date_field("", "deadline", errors) is None and errors == {}
    assert date_field(None, "deadline", errors, required=True) is None
    assert date_field("mai", "new_deadline", errors) is None
    assert errors == {"deadline": ["Không được để trống"], "new_deadline": ["Ngày không hợp lệ (dd/mm/yyyy)"]}
    assert date_field("05/03/2026", "deadline", errors, required=True) == dt.date(2026, 3, 5)


def test_text_field_is_stripped_nfc_and_checked():
    errors: dict[str, list[str]] = {}
    assert text_field("  Quye\u0302\u0301t đi\u0323nh ", "title", errors, max_length=20) == "Quyết định"
    assert text_field(None, "note", errors, max_length=5) == "" and errors == {}
    assert text_field(" ", "title", errors, max_length=5, required=True) == ""
    assert text_field("Báo cáo tháng", "summary", errors, max_length=5) == "Báo cáo tháng"
    assert errors == {"title": ["Không được để trống"], "summary": ["Không quá 5 ký tự"]}
