"""YAML that agency admins write is data of bounded size: no aliases, no deep nesting.

An alias (``*a``) makes the loaded tree grow exponentially with the text (a 426-byte "billion laughs" became
72 MB of form preview), and the loaders compose nested collections recursively (a few thousand ``[`` end in
RecursionError). The event stream is produced by a state machine without recursion or expansion, so scanning
it first costs time linear in the text, whatever the text is.
"""

from __future__ import annotations

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, NodeEvent

MAX_DEPTH = 32


def yaml_hazard(text: str, *, max_depth: int = MAX_DEPTH) -> str | None:
    """A Vietnamese sentence naming the first anchor or alias, or too-deep nesting, in ``text``; or None.

    Syntax errors are left for the loader to report (with its own line and column).
    """
    depth = 0
    try:
        for event in YAML(typ="safe", pure=True).parse(text):
            if isinstance(event, NodeEvent) and event.anchor is not None:
                # An anchor is only useful to an alias; refusing both keeps the rule (and the message) simple.
                mark = event.start_mark
                where = f" ở dòng {mark.line + 1}, cột {mark.column + 1}" if mark is not None else ""
                sign = "*" if isinstance(event, AliasEvent) else "&"
                return (f"Không dùng bí danh YAML ({sign}{event.anchor}){where}: hãy viết đầy đủ giá trị "
                        "thay vì neo (&) và tham chiếu tới neo (*).")
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > max_depth:
                    mark = event.start_mark
                    where = f" ở dòng {mark.line + 1}" if mark is not None else ""
                    return f"Cấu trúc lồng nhau quá sâu{where} (tối đa {max_depth} cấp)."
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except YAMLError:
        return None
    return None
