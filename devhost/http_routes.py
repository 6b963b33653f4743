"""HTTP route templates as the Functions host (ASP.NET Core routing) reads them, and matching a path.

A template is `/`-separated segments: literals (matched case-insensitively), `{name}` (one non-empty
segment), `{name?}` and `{name=default}` (optional, at the end), `{*name}` / `{**name}` (catch-all:
the rest of the path, possibly empty, last segment only) and segments mixing literals and parameters
(`{name}.{ext}`). A parameter may carry constraints, `{id:int}`, `{id:int:min(1)}`; the ones listed
in `_CONSTRAINTS` are checked, unknown ones are ignored (with one warning at startup). When several
routes match, the more specific wins, segment by segment, as in ASP.NET Core: literal, then mixed
segment, then constrained parameter, then parameter, then catch-all.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote


class RouteError(ValueError):
    """A route template devhost cannot read; the message says where."""


_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _integer(low: int, high: int) -> Callable[[str], bool]:
    return lambda v: bool(_INTEGER.fullmatch(v)) and low <= int(v) <= high


def _bounded(measure: Callable[[str], int], args: list[str]) -> Callable[[str], bool]:
    """min(n)/max(n)/range(a,b)/minlength/maxlength/length: `args` are the bounds."""
    bounds = [int(a) for a in args]
    low, high = (bounds[0], bounds[-1]) if len(bounds) in (1, 2) else (0, 0)

    def check(value: str) -> bool:
        if measure is int and not _INTEGER.fullmatch(value):
            return False
        return low <= measure(value) <= high

    return check


_INT32, _INT64 = 2**31, 2**63
_SIMPLE: dict[str, Callable[[str], bool]] = {
    "int": _integer(-_INT32, _INT32 - 1),
    "long": _integer(-_INT64, _INT64 - 1),
    "double": lambda v: bool(_DECIMAL.fullmatch(v)),
    "float": lambda v: bool(_DECIMAL.fullmatch(v)),
    "decimal": lambda v: bool(_DECIMAL.fullmatch(v)),
    "alpha": lambda v: bool(re.fullmatch(r"[A-Za-z]+", v)),
    "bool": lambda v: v.lower() in ("true", "false"),
    "guid": lambda v: _is_guid(v),
    "required": lambda v: v != "",
}
_KNOWN = {*_SIMPLE, "min", "max", "range", "minlength", "maxlength", "length", "regex"}


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _constraint(text: str) -> Callable[[str], bool] | None:
    """A check for one constraint (`int`, `min(3)`, `regex(^a)`); None when devhost does not know it."""
    name, _, rest = text.partition("(")
    name = name.strip().lower()
    if name in _SIMPLE and not rest:
        return _SIMPLE[name]
    if not rest.endswith(")"):
        return None
    arg = rest[:-1]
    args = [a.strip() for a in arg.split(",")]
    try:
        if name == "min":
            return _bounded(int, [args[0], str(_INT64)])
        if name == "max":
            return _bounded(int, [str(-_INT64), args[0]])
        if name == "range":
            return _bounded(int, args[:2])
        if name == "minlength":
            return _bounded(len, [args[0], str(_INT64)])
        if name == "maxlength":
            return _bounded(len, ["0", args[0]])
        if name == "length":
            return _bounded(len, args[:2])
        if name == "regex":
            pattern = re.compile(arg, re.IGNORECASE)  # ASP.NET: case-insensitive, not anchored
            return lambda v: pattern.search(v) is not None
    except (ValueError, IndexError, re.error) as exc:
        raise RouteError(f"constraint {text!r}: {exc}") from exc
    return None


def _split_top(text: str, separator: str) -> list[str]:
    """Split on `separator` outside parentheses (a regex constraint may hold `:`)."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class Param:
    name: str
    checks: tuple[Callable[[str], bool], ...] = ()
    optional: bool = False
    default: str | None = None
    catch_all: bool = False
    unknown: tuple[str, ...] = ()  # constraints devhost ignores

    def accepts(self, value: str) -> bool:
        return all(check(value) for check in self.checks)


def _parse_param(body: str) -> Param:
    catch_all = body.startswith("*")
    body = body.lstrip("*")
    optional = body.endswith("?")
    if optional:
        body = body[:-1]
    parts = _split_top(body, ":")
    default = None
    last = _split_top(parts[-1], "=")
    if len(last) > 1:
        parts[-1], default = last[0], "=".join(last[1:])
    name = parts[0].strip()
    if not re.fullmatch(r"[^{}/?*=:]+", name):
        raise RouteError(f"parameter {{{body}}} has no valid name")
    checks, unknown = [], []
    for text in parts[1:]:
        check = _constraint(text)
        if check is None:
            unknown.append(text)
        else:
            checks.append(check)
    return Param(name, tuple(checks), optional or default is not None, default, catch_all, tuple(unknown))


def _parse_segment(segment: str) -> list[str | Param]:
    """Literal text and parameters of one segment (`{{` and `}}` are literal braces)."""
    parts: list[str | Param] = []
    literal: list[str] = []
    i = 0
    while i < len(segment):
        pair = segment[i : i + 2]
        if pair in ("{{", "}}"):
            literal.append(pair[0])
            i += 2
            continue
        if segment[i] == "}":
            raise RouteError(f"segment {segment!r} has an unmatched '}}'")
        if segment[i] != "{":
            literal.append(segment[i])
            i += 1
            continue
        body: list[str] = []
        i += 1
        while True:
            if i >= len(segment):
                raise RouteError(f"segment {segment!r} has an unclosed '{{'")
            if segment[i : i + 2] in ("}}", "{{"):
                body.append(segment[i])
                i += 2
            elif segment[i] == "}":
                i += 1
                break
            else:
                body.append(segment[i])
                i += 1
        if literal:
            parts.append("".join(literal))
            literal = []
        if parts and isinstance(parts[-1], Param):
            raise RouteError(f"segment {segment!r}: two parameters need a literal between them")
        parts.append(_parse_param("".join(body)))
    if literal:
        parts.append("".join(literal))
    return parts


@functools.cache
def _segment_regex(parts: tuple[str | Param, ...]) -> re.Pattern[str]:
    """A mixed segment (`{name}.{ext}`): parameters take as much as they can, as in ASP.NET Core."""
    pattern = "".join(
        re.escape(p) if isinstance(p, str) else f"(?P<p{i}>.+)" for i, p in enumerate(parts)
    )
    return re.compile(f"^{pattern}$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Route:
    """One function's route: the full template (with the host's prefix) and the methods it takes."""

    template: str
    methods: frozenset[str] | None
    target: Any
    segments: tuple[tuple[str | Param, ...], ...] = field(repr=False)
    precedence: tuple[int, ...] = field(repr=False)

    @property
    def ignored_constraints(self) -> list[str]:
        return [c for seg in self.segments for p in seg if isinstance(p, Param) for c in p.unknown]

    def match(self, path: list[str]) -> dict[str, str] | None:
        """The route values when the (decoded) path segments fit the template, else None."""
        values: dict[str, str] = {}
        for index, parts in enumerate(self.segments):
            first = parts[0]
            if len(parts) == 1 and isinstance(first, Param) and first.catch_all:
                rest = "/".join(path[index:])
                if rest and not first.accepts(rest):
                    return None
                if rest or first.default is not None:
                    values[first.name] = rest or str(first.default)
                return values
            if index >= len(path):
                return values if self._rest_optional(index, values) else None
            segment = path[index]
            if len(parts) == 1 and isinstance(first, str):
                if segment.casefold() != first.casefold():
                    return None
            elif len(parts) == 1 and isinstance(first, Param):
                if segment == "" or not first.accepts(segment):
                    return None
                values[first.name] = segment
            else:
                found = _segment_regex(parts).match(segment)
                if found is None:
                    return None
                for i, part in enumerate(parts):
                    if isinstance(part, Param):
                        value = found.group(f"p{i}")
                        if not part.accepts(value):
                            return None
                        values[part.name] = value
        return values if len(path) == len(self.segments) else None

    def _rest_optional(self, index: int, values: dict[str, str]) -> bool:
        """The path ended at template segment `index`: fine if every segment left may be left out."""
        for parts in self.segments[index:]:
            param = parts[0]
            if len(parts) != 1 or not isinstance(param, Param) or not (param.optional or param.catch_all):
                return False
            if param.default is not None:
                values[param.name] = param.default
        return True

    def allows(self, method: str) -> bool:
        return self.methods is None or method.upper() in self.methods


def build_route(prefix: str, route: str, methods: Iterable[str] | None, target: Any) -> Route:
    """Parse `prefix/route`; raise RouteError for a template the host would refuse too."""
    template = "/".join(p for p in (prefix.strip("/"), route.strip().strip("/")) if p)
    segments = [tuple(_parse_segment(s)) for s in template.split("/")] if template else []
    names: set[str] = set()
    precedence = []
    for index, parts in enumerate(segments):
        if not parts:
            raise RouteError(f"route {route!r} has an empty segment")
        params = [p for p in parts if isinstance(p, Param)]
        for param in params:
            if param.name.lower() in names:
                raise RouteError(f"route {route!r} names parameter {param.name!r} twice")
            names.add(param.name.lower())
            if param.catch_all and (len(parts) != 1 or index != len(segments) - 1):
                raise RouteError(f"route {route!r}: a catch-all parameter must be the whole last segment")
            if param.optional and len(parts) != 1:
                raise RouteError(f"route {route!r}: an optional parameter must be a segment of its own")
        if not params:
            precedence.append(1)
        elif len(parts) > 1:
            precedence.append(2)
        elif params[0].catch_all:
            precedence.append(5)
        else:
            precedence.append(3 if params[0].checks or params[0].unknown else 4)
    for index, parts in enumerate(segments[:-1]):
        param = parts[0]
        if isinstance(param, Param) and param.optional and not all(
            isinstance(p[0], Param) and (p[0].optional or p[0].catch_all) for p in segments[index + 1 :]
        ):
            raise RouteError(f"route {route!r}: only the last segments may be optional")
    method_set = frozenset(m.upper() for m in methods) if methods else None
    return Route(template, method_set, target, tuple(segments), tuple(precedence))


def split_path(raw_path: str) -> list[str]:
    """The request path as decoded segments, like Kestrel: `%2F` stays encoded, a trailing `/` is dropped."""
    path = raw_path.split("?", 1)[0].strip("/")
    if not path:
        return []
    return [unquote(re.sub("%2[Ff]", "%252F", s), errors="replace") for s in path.split("/")]


class RouteTable:
    """All HTTP routes, most specific first."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = sorted(routes, key=lambda r: (r.precedence, r.template.lower()))

    def find(self, method: str, path: list[str]) -> tuple[Route, dict[str, str]] | None:
        """The route for a request, or None (no template fits, or none that fits takes the method:
        the host answers 404 to both)."""
        for route in self.routes:
            if not route.allows(method):
                continue
            values = route.match(path)
            if values is not None:
                return route, values
        return None
