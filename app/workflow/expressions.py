"""The restricted expression language of diagrams (gateway conditions, timer values, MI cardinality).

Agency admins edit diagrams in a browser, so an expression must never reach ``eval``: it is parsed
with :mod:`ast`, checked against an allow-list of node types, then walked by ``simpleeval`` with our
own operators and a small table of pure functions. No attribute access exists at all, so nothing can
climb from a value to its class, its module or the interpreter.

Nor can an expression stall the worker that serves every agency: each value it builds is bounded before it
is built where its size is known in advance (repetition, concatenation, powers, products, rounding digits,
``%`` format widths) and measured after (integers in bits, strings and containers in cells), and one
evaluation builds at most ``MAX_WORK`` cells in all. With no loops, a walk visits each node at most once, so
these bounds are also its time bound. ``check_expression`` applies the same bounds without data: every part
that reads no data is computed, and the bounds that do not depend on data (the digits of ``round``, an
exponent, a format width) are applied to the parts that are known, so the designer never calls "hợp lệ"
what a gateway would refuse at run time.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import operator
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import simpleeval

from app.core import clock
from app.core.errors import DomainError

MAX_EXPRESSION_LENGTH = 500
MAX_EXPONENT = 64
MAX_POWER_BASE = 10**9
MAX_INT_BITS = 1024  # about 308 decimal digits: money, counts and dates need far fewer
# Sizes in cells: an element of a list, tuple or set (nested ones counted), or ten characters of a string.
MAX_VALUE_SIZE = 10_000  # one built value: 10,000 elements or 100,000 characters
MAX_STRING_LENGTH = MAX_VALUE_SIZE * 10
MAX_SEQUENCE_LENGTH = MAX_VALUE_SIZE
MAX_WORK = 100_000  # cells built by one evaluation, all values together
MAX_STEPS = 2_000  # nodes visited by one evaluation (each node at most once: there are no loops)
MAX_ROUND_DIGITS = 30
MAX_FORMAT_WIDTH = 100


class ExpressionError(DomainError):
    """An expression in a diagram is malformed, forbidden, or failed on the data it was given."""

    code = "expression_error"
    task: Any = None  # the engine task it failed on, when known (names the element of an incident)


class ExpressionLimitError(ExpressionError):
    """An expression would build a value (or do work) beyond the evaluator's bounds."""

    code = "expression_limit"


class _Unknown:
    """A value read from the data, while ``check_expression`` evaluates without data."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<dữ liệu>"


UNKNOWN: Any = _Unknown()


def _known(*values: Any) -> bool:
    return all(v is not UNKNOWN for v in values)


# Types counted as one cell in a flat container (ints there are small or bounded by MAX_INT_BITS already).
_FLAT = frozenset({int, bool, float, type(None), dt.date, dt.datetime})


def _size(value: Any, budget: int = MAX_VALUE_SIZE) -> int:
    """Cells of ``value`` (characters, elements, nested), counted without recursion and up to ``budget`` + 1."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str | bytes):
            total += max(1, (len(item) + 9) // 10)
        elif isinstance(item, list | tuple | set | frozenset):
            total += 1
            if set(map(type, item)) <= _FLAT:  # the common flat case, counted at C speed
                total += len(item)
            else:
                stack.extend(item)
        elif isinstance(item, Mapping):
            total += 1
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, int) and not isinstance(item, bool):
            total += 1 + item.bit_length() // 64
        else:
            total += 1
        if total > budget:
            return total
    return total


_LIMIT_TEXT = f"tối đa {MAX_STRING_LENGTH} ký tự hoặc {MAX_VALUE_SIZE} phần tử"


def _too_big(what: str) -> ExpressionLimitError:
    return ExpressionLimitError(f"Kết quả {what} quá lớn ({_LIMIT_TEXT})")


def _check_int(value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise ExpressionLimitError(f"Số quá lớn (tối đa {MAX_INT_BITS} bit, khoảng 308 chữ số)")


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
    "round": lambda *args: _safe_round(*args),
    "today": lambda: clock.today(),
    "date": _as_date,
    "days_until": _days_until,
}

CONSTANTS = {"True": True, "False": False, "None": None, "true": True, "false": False, "null": None}


def _safe_round(*args: Any) -> Any:
    if len(args) == 2 and isinstance(args[1], int) and abs(args[1]) > MAX_ROUND_DIGITS:
        raise ExpressionLimitError(f"Số chữ số làm tròn {args[1]} quá lớn (tối đa {MAX_ROUND_DIGITS})")
    if not _known(*args):
        return UNKNOWN
    return round(*args)


def _safe_power(base: Any, exponent: Any) -> Any:
    if isinstance(exponent, int | float) and abs(exponent) > MAX_EXPONENT:
        raise ExpressionLimitError(f"Số mũ {exponent} quá lớn (tối đa {MAX_EXPONENT})")
    if isinstance(base, int | float) and abs(base) > MAX_POWER_BASE:
        raise ExpressionLimitError(f"Cơ số của phép lũy thừa quá lớn (tối đa {MAX_POWER_BASE})")
    if not _known(base, exponent):
        return UNKNOWN
    ints = isinstance(base, int) and isinstance(exponent, int) and exponent > 0
    if ints and abs(base).bit_length() * exponent > MAX_INT_BITS + exponent:
        raise ExpressionLimitError(f"Kết quả phép lũy thừa quá lớn (tối đa {MAX_INT_BITS} bit)")
    return operator.pow(base, exponent)


def _repeated_size(seq: str | list[Any] | tuple[Any, ...], times: int) -> int:
    if isinstance(seq, str):
        return max(1, (len(seq) * times + 9) // 10)
    return 1 + (_size(seq) - 1) * times


def _safe_mult(a: Any, b: Any) -> Any:
    if not _known(a, b):
        return UNKNOWN
    for seq, times in ((a, b), (b, a)):
        repeated = isinstance(seq, str | list | tuple) and isinstance(times, int) and times > 0
        if repeated and _repeated_size(seq, times) > MAX_VALUE_SIZE:
            raise ExpressionLimitError(f"Kết quả phép nhân chuỗi/danh sách quá dài ({_LIMIT_TEXT})")
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_INT_BITS + 1:
        raise ExpressionLimitError(f"Kết quả phép nhân quá lớn (tối đa {MAX_INT_BITS} bit)")
    return operator.mul(a, b)


def _safe_add(a: Any, b: Any) -> Any:
    if not _known(a, b):
        return UNKNOWN
    sequences = isinstance(a, str | list | tuple) and isinstance(b, str | list | tuple)
    if sequences and _size(a) + _size(b) - 1 > MAX_VALUE_SIZE:
        raise ExpressionLimitError(f"Kết quả phép cộng chuỗi/danh sách quá dài ({_LIMIT_TEXT})")
    return operator.add(a, b)


# printf-style conversion specifiers: %[(key)][flags][width][.precision][length]type
_FORMAT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)?", re.S)


def _check_format(template: str) -> None:
    for match in _FORMAT_SPEC.finditer(template):
        width, precision = match.group(1), match.group(2)
        if "*" in (width, precision):
            raise ExpressionLimitError("Định dạng chuỗi không được lấy độ rộng từ dữ liệu (dấu *)")
        for number in (width, precision):
            if number and (len(number) > 4 or int(number) > MAX_FORMAT_WIDTH):
                raise ExpressionLimitError(f"Độ rộng định dạng {number} quá lớn (tối đa {MAX_FORMAT_WIDTH})")


def _safe_mod(a: Any, b: Any) -> Any:
    if isinstance(a, str):
        _check_format(a)
    if not _known(a, b):
        return UNKNOWN
    return operator.mod(a, b)


def _unknown_or(fn: Callable[..., Any]) -> Callable[..., Any]:
    def apply(*args: Any) -> Any:
        return fn(*args) if _known(*args) else UNKNOWN

    return apply


def _in(a: Any, b: Any) -> bool:
    return a in b


def _not_in(a: Any, b: Any) -> bool:
    return a not in b


OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: _safe_add,
    ast.Sub: _unknown_or(operator.sub),
    ast.Mult: _safe_mult,
    ast.Div: _unknown_or(operator.truediv),
    ast.FloorDiv: _unknown_or(operator.floordiv),
    ast.Mod: _safe_mod,
    ast.Pow: _safe_power,
    ast.USub: _unknown_or(operator.neg),
    ast.UAdd: _unknown_or(operator.pos),
    ast.Not: _unknown_or(operator.not_),
    ast.Eq: _unknown_or(operator.eq),
    ast.NotEq: _unknown_or(operator.ne),
    ast.Lt: _unknown_or(operator.lt),
    ast.LtE: _unknown_or(operator.le),
    ast.Gt: _unknown_or(operator.gt),
    ast.GtE: _unknown_or(operator.ge),
    ast.In: _unknown_or(_in),
    ast.NotIn: _unknown_or(_not_in),
    ast.Is: _unknown_or(operator.is_),
    ast.IsNot: _unknown_or(operator.is_not),
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
    # What a run would refuse whatever the data, refuse now (round(1, -10**9), '%0100000000d' % x, …).
    _run(_Checker(), tree, expression)
    return tree


# Nodes whose result is a value the walk built (not a literal, a data value or one of the operands).
_BUILDING = (ast.BinOp, ast.UnaryOp, ast.Call, ast.List, ast.Tuple, ast.Set)


class _Evaluator(simpleeval.SimpleEval):
    def __init__(self, names: Mapping[str, Any]):
        super().__init__(operators=OPERATORS, functions=FUNCTIONS, names={})
        self._data = names
        self.steps = 0
        self.work = 0
        self.nodes[ast.Expression] = lambda node: self._eval(node.body)
        self.nodes[ast.List] = lambda node: [self._eval(e) for e in node.elts]
        self.nodes[ast.Tuple] = lambda node: tuple(self._eval(e) for e in node.elts)
        self.nodes[ast.Set] = lambda node: {self._eval(e) for e in node.elts}
        # Belt and braces: the static check already refused these, never rely on one layer.
        self.nodes.pop(ast.Attribute, None)
        self.nodes.pop(ast.Assign, None)
        self.nodes.pop(ast.AugAssign, None)
        self.nodes.pop(ast.Import, None)

    def _eval(self, node: ast.AST) -> Any:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise ExpressionLimitError(f"Biểu thức quá phức tạp (quá {MAX_STEPS} bước tính)")
        handler = self.nodes.get(type(node))
        if handler is None:
            raise simpleeval.FeatureNotAvailable(f"cú pháp {type(node).__name__} không được hỗ trợ")
        result = handler(node)
        if isinstance(node, _BUILDING) and result is not UNKNOWN:
            self._account(result)
        return result

    def _account(self, value: Any) -> None:
        """Measure a value the walk built: refuse it if it is too big, and count it against the work budget."""
        _check_int(value)
        size = _size(value)
        if size > MAX_VALUE_SIZE:
            raise _too_big("của biểu thức")
        self.work += size
        if self.work > MAX_WORK:
            raise ExpressionLimitError(
                f"Biểu thức tạo ra quá nhiều dữ liệu (tối đa {MAX_WORK} phần tử, mỗi 10 ký tự tính một)")

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
        if not _known(container, key):
            return UNKNOWN
        if not isinstance(container, Mapping | list | tuple | str):
            raise ExpressionError(f'Biểu thức "{_shorten(self.expr)}": không lấy phần tử được từ giá trị này')
        try:
            return container[key]
        except (KeyError, IndexError, TypeError):
            raise ExpressionError(f'Biểu thức "{_shorten(self.expr)}": không có phần tử [{key!r}]') from None


class _Checker(_Evaluator):
    """Evaluates without data: names read UNKNOWN, every branch is walked, known parts are really computed."""

    def __init__(self) -> None:
        super().__init__({})
        self.nodes[ast.List] = lambda node: self._collect(node, list)
        self.nodes[ast.Tuple] = lambda node: self._collect(node, tuple)
        self.nodes[ast.Set] = lambda node: self._collect(node, set)

    def _collect(self, node: ast.List | ast.Tuple | ast.Set, kind: type) -> Any:
        items = [self._eval(e) for e in node.elts]
        return kind(items) if _known(*items) else UNKNOWN

    def _eval_name(self, node: ast.Name) -> Any:
        return CONSTANTS.get(node.id, UNKNOWN)

    def _eval_boolop(self, node: ast.BoolOp) -> Any:
        values = [self._eval(v) for v in node.values]
        if not _known(*values):
            return UNKNOWN
        result = values[0]
        for value in values[1:]:
            if (isinstance(node.op, ast.And) and not result) or (isinstance(node.op, ast.Or) and result):
                break
            result = value
        return result

    def _eval_compare(self, node: ast.Compare) -> Any:
        values = [self._eval(node.left), *(self._eval(c) for c in node.comparators)]
        if not _known(*values):
            return UNKNOWN
        return all(self.operators[type(op)](values[i], values[i + 1]) for i, op in enumerate(node.ops))

    def _eval_ifexp(self, node: ast.IfExp) -> Any:
        test, body, orelse = self._eval(node.test), self._eval(node.body), self._eval(node.orelse)
        if not _known(test):
            return UNKNOWN
        return body if test else orelse

    def _eval_call(self, node: ast.Call) -> Any:
        args = [self._eval(a) for a in node.args]
        func = self.functions[node.func.id]  # type: ignore[attr-defined]
        if node.func.id == "round" or _known(*args):  # type: ignore[attr-defined]
            return func(*args)
        return UNKNOWN


def _run(evaluator: _Evaluator, tree: ast.Expression, expression: str) -> Any:
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


def check_expression(expression: str) -> None:
    """Raise ExpressionError if ``expression`` is not in the allowed language or breaks a bound whatever the data."""
    if not isinstance(expression, str):
        raise ExpressionError("Biểu thức phải là chuỗi ký tự")
    _compile(expression)


def evaluate(expression: str, data: Mapping[str, Any] | None = None) -> Any:
    """Evaluate ``expression`` with the names in ``data``; every failure is an ExpressionError."""
    check_expression(expression)
    return _run(_Evaluator(data or {}), _compile(expression), expression)


def evaluation_cost(expression: str, data: Mapping[str, Any] | None = None) -> tuple[int, int]:
    """(steps, cells built) of evaluating ``expression``, whether it succeeds or not (for tests and benchmarks)."""
    evaluator: _Evaluator = _Evaluator(data or {})
    try:
        tree = _compile(expression)
    except ExpressionError:
        tree = None  # refused at check time: the cost is the checker's (it walks the same nodes, without data)
        evaluator = _Checker()
        with contextlib.suppress(ExpressionError, SyntaxError, ValueError, RecursionError, MemoryError):
            parsed = ast.parse(expression.strip(), mode="eval") if len(expression) <= MAX_EXPRESSION_LENGTH else None
            if parsed is not None and all(_vetted(expression, n) for n in ast.walk(parsed)):
                _run(evaluator, parsed, expression)
    if tree is not None:
        with contextlib.suppress(ExpressionError):
            _run(evaluator, tree, expression)
    return evaluator.steps, evaluator.work


def _vetted(expression: str, node: ast.AST) -> bool:
    _check_node(expression, node)
    return True


def expression_names(expression: str) -> frozenset[str]:
    """The data names an expression reads (not constants, not the allowed functions it calls)."""
    tree = _compile(expression)
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return frozenset(
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and id(node) not in called and node.id not in CONSTANTS
    )
