"""The restricted expression language of diagrams (gateway conditions, timer values, MI cardinality).

Agency admins edit diagrams in a browser, so an expression must never reach ``eval``: it is parsed
with :mod:`ast`, checked against an allow-list of node types, then walked by ``simpleeval`` with our
own operators (bounded power and repetition) and a small table of pure functions. No attribute access
exists at all, so nothing can climb from a value to its class, its module or the interpreter.
"""

from __future__ import annotations

import ast
import datetime as dt
import operator
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import simpleeval

from app.core import clock
from app.core.errors import DomainError

MAX_EXPRESSION_LENGTH = 500
MAX_EXPONENT = 64
MAX_POWER_BASE = 10**9
MAX_SEQUENCE_LENGTH = 10_000


class ExpressionError(DomainError):
    """An expression in a diagram is malformed, forbidden, or failed on the data it was given."""

    code = "expression_error"
    task: Any = None  # the engine task it failed on, when known (names the element of an incident)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(clock.VN_TZ).date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise ExpressionError(f'Giá trị "{value}" không phải là ngày (định dạng YYYY-MM-DD)')


def _days_until(value: Any) -> int:
    return (_as_date(value) - clock.today()).days


def _text(fn: Callable[[str], str]) -> Callable[[Any], str]:
    def apply(value: Any) -> str:
        if not isinstance(value, str):
            raise ExpressionError(f'Hàm chỉ nhận chuỗi ký tự, nhận được "{value}"')
        return fn(value)

    return apply


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "lower": _text(str.lower),
    "upper": _text(str.upper),
    "strip": _text(str.strip),
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "abs": abs,
    "min": min,
    "max": max,
    "round": round,
    "today": lambda: clock.today(),
    "date": _as_date,
    "days_until": _days_until,
}

CONSTANTS = {"True": True, "False": False, "None": None, "true": True, "false": False, "null": None}


def _safe_power(base: Any, exponent: Any) -> Any:
    if isinstance(exponent, int | float) and abs(exponent) > MAX_EXPONENT:
        raise ExpressionError(f"Số mũ {exponent} quá lớn (tối đa {MAX_EXPONENT})")
    if isinstance(base, int | float) and abs(base) > MAX_POWER_BASE:
        raise ExpressionError(f"Cơ số của phép lũy thừa quá lớn (tối đa {MAX_POWER_BASE})")
    return operator.pow(base, exponent)


def _safe_mult(a: Any, b: Any) -> Any:
    for seq, times in ((a, b), (b, a)):
        if isinstance(seq, str | list | tuple) and isinstance(times, int) and times * len(seq) > MAX_SEQUENCE_LENGTH:
            raise ExpressionError(f"Kết quả phép nhân chuỗi/danh sách quá dài (tối đa {MAX_SEQUENCE_LENGTH})")
    return operator.mul(a, b)


def _safe_add(a: Any, b: Any) -> Any:
    sequences = isinstance(a, str | list | tuple) and isinstance(b, str | list | tuple)
    if sequences and len(a) + len(b) > MAX_SEQUENCE_LENGTH:
        raise ExpressionError(f"Kết quả phép cộng chuỗi/danh sách quá dài (tối đa {MAX_SEQUENCE_LENGTH})")
    return operator.add(a, b)


def _in(a: Any, b: Any) -> bool:
    return a in b


def _not_in(a: Any, b: Any) -> bool:
    return a not in b


OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: _safe_add,
    ast.Sub: operator.sub,
    ast.Mult: _safe_mult,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: _safe_power,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: _in,
    ast.NotIn: _not_in,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}

_ALLOWED_NODES: tuple[type, ...] = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.BinOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.Subscript,
    *OPERATORS.keys(),
)

_FORBIDDEN_LABELS: dict[type, str] = {
    ast.Attribute: "truy cập thuộc tính (dấu chấm)",
    ast.Lambda: "hàm lambda",
    ast.ListComp: "biểu thức sinh danh sách (comprehension)",
    ast.SetComp: "biểu thức sinh tập hợp (comprehension)",
    ast.DictComp: "biểu thức sinh từ điển (comprehension)",
    ast.GeneratorExp: "biểu thức sinh (generator)",
    ast.NamedExpr: "phép gán :=",
    ast.Starred: "toán tử *",
    ast.Slice: "cắt lát (slice)",
    ast.JoinedStr: "chuỗi f-string",
    ast.Dict: "từ điển {…}",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}


def _reject(expression: str, what: str) -> ExpressionError:
    return ExpressionError(f'Biểu thức "{_shorten(expression)}" không hợp lệ: {what}')


def _shorten(expression: str) -> str:
    return expression if len(expression) <= 80 else expression[:77] + "…"


def _check_node(expression: str, node: ast.AST) -> None:
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise _reject(expression, f'tên "{node.id}" bắt đầu bằng "_" không được phép')
    elif isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute):
            raise _reject(expression, "không được dùng truy cập thuộc tính (dấu chấm) hay gọi phương thức")
        if not isinstance(node.func, ast.Name):
            raise _reject(expression, "chỉ được gọi các hàm có sẵn theo tên")
        if node.func.id not in FUNCTIONS:
            allowed = ", ".join(sorted(FUNCTIONS))
            raise _reject(expression, f'hàm "{node.func.id}" không được phép (chỉ dùng: {allowed})')
        if node.keywords:
            raise _reject(expression, "không dùng tham số có tên khi gọi hàm")
    elif isinstance(node, ast.Subscript):
        key = node.slice
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str | int)):
            raise _reject(expression, "chỉ được lấy phần tử bằng một khóa cố định, ví dụ data[\"x\"] hoặc ds[0]")
        if isinstance(key.value, str) and key.value.startswith("_"):
            raise _reject(expression, f'khóa "{key.value}" bắt đầu bằng "_" không được phép')
    elif isinstance(node, ast.Constant) and (
        isinstance(node.value, bytes) or node.value is Ellipsis or isinstance(node.value, complex)
    ):
        raise _reject(expression, "kiểu hằng số này không được hỗ trợ")
    if not isinstance(node, _ALLOWED_NODES):
        label = _FORBIDDEN_LABELS.get(type(node), f'cú pháp "{type(node).__name__}"')
        raise _reject(expression, f"không được dùng {label}")


@lru_cache(maxsize=4096)
def _compile(expression: str) -> ast.Expression:
    """Parse and vet an expression once; the cache makes repeated gateway checks cheap."""
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"Biểu thức dài {len(expression)} ký tự, vượt quá giới hạn {MAX_EXPRESSION_LENGTH} ký tự")
    text = expression.strip()
    if not text:
        raise ExpressionError("Biểu thức trống")
    if "\x00" in text:
        raise ExpressionError("Biểu thức chứa ký tự không hợp lệ")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(
            f'Biểu thức "{_shorten(expression)}" sai cú pháp (vị trí {exc.offset or "?"}): {exc.msg}'
        ) from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError(f'Biểu thức "{_shorten(expression)}" không đọc được') from None
    for node in ast.walk(tree):
        _check_node(expression, node)
    return tree


class _Evaluator(simpleeval.SimpleEval):
    def __init__(self, names: Mapping[str, Any]):
        super().__init__(operators=OPERATORS, functions=FUNCTIONS, names={})
        self._data = names
        self.nodes[ast.Expression] = lambda node: self._eval(node.body)
        self.nodes[ast.List] = lambda node: [self._eval(e) for e in node.elts]
        self.nodes[ast.Tuple] = lambda node: tuple(self._eval(e) for e in node.elts)
        self.nodes[ast.Set] = lambda node: {self._eval(e) for e in node.elts}
        # Belt and braces: the static check already refused these, never rely on one layer.
        self.nodes.pop(ast.Attribute, None)
        self.nodes.pop(ast.Assign, None)
        self.nodes.pop(ast.AugAssign, None)
        self.nodes.pop(ast.Import, None)

    def _eval_name(self, node: ast.Name) -> Any:
        name = node.id
        if name in self._data:
            return self._data[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        raise ExpressionError(f'Biểu thức "{_shorten(self.expr)}": không có dữ liệu "{name}"')

    def _eval_subscript(self, node: ast.Subscript) -> Any:
        container = self._eval(node.value)
        key = self._eval(node.slice)
        if not isinstance(container, Mapping | list | tuple | str):
            raise ExpressionError(f'Biểu thức "{_shorten(self.expr)}": không lấy phần tử được từ giá trị này')
        try:
            return container[key]
        except (KeyError, IndexError, TypeError):
            raise ExpressionError(f'Biểu thức "{_shorten(self.expr)}": không có phần tử [{key!r}]') from None


def check_expression(expression: str) -> None:
    """Raise ExpressionError if ``expression`` is not in the allowed language (no evaluation)."""
    if not isinstance(expression, str):
        raise ExpressionError("Biểu thức phải là chuỗi ký tự")
    _compile(expression)


def evaluate(expression: str, data: Mapping[str, Any] | None = None) -> Any:
    """Evaluate ``expression`` with the names in ``data``; every failure is an ExpressionError."""
    check_expression(expression)
    tree = _compile(expression)
    evaluator = _Evaluator(data or {})
    evaluator.expr = expression
    try:
        return evaluator._eval(tree)
    except ExpressionError:
        raise
    except ZeroDivisionError:
        raise ExpressionError(f'Biểu thức "{_shorten(expression)}": chia cho 0') from None
    except simpleeval.InvalidExpression as exc:
        raise ExpressionError(f'Biểu thức "{_shorten(expression)}" không hợp lệ: {exc}') from None
    except (TypeError, ValueError, OverflowError, ArithmeticError) as exc:
        raise ExpressionError(
            f'Biểu thức "{_shorten(expression)}" không tính được trên dữ liệu hiện có ({type(exc).__name__}: {exc})'
        ) from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f'Biểu thức "{_shorten(expression)}" quá phức tạp') from None


def expression_names(expression: str) -> frozenset[str]:
    """The data names an expression reads (not constants, not the allowed functions it calls)."""
    tree = _compile(expression)
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return frozenset(
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and id(node) not in called and node.id not in CONSTANTS
    )
