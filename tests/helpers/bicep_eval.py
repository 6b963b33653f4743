"""Evaluate the parts of a Bicep file that are known before deployment, from pycep's parse tree.

pycep turns Bicep into JSON-like data without evaluating it, and a reference looks like a string literal
(`formsContainerName` vs `'forms'`). A string that names a parameter or variable is resolved (a parameter
to the value a parent module passed, else to its default); `${...}` interpolations, property access on
objects, `for` loops over known arrays, `cond ? a : b` with a known condition, `==`, `!=`, `!`, `&&` and
`||` on known values, `empty`, `concat` of arrays, `join` of known strings and `loadJsonContent` are
evaluated; everything only Azure knows (module outputs, `uniqueString`, conditions on unknown values)
becomes `UNKNOWN`. That is enough to compare names and settings across files. (Because quotes are lost, a
string literal that happens to name a parameter, variable or module is read as that name: pick values that
do not.)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pycep import BicepParser


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"

    def __str__(self) -> str:
        return "<?>"


UNKNOWN: Any = _Unknown()
_INTERPOLATION = re.compile(r"\$\{([^}]+)\}")
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
# Comparisons and logic on known values (Bicep compares strings case-sensitively with == and !=).
_BINARY = {
    "equals": lambda a, b: a == b,
    "not_equals": lambda a, b: a != b,
    "and": lambda a, b: a and b if isinstance(a, bool) and isinstance(b, bool) else UNKNOWN,
    "or": lambda a, b: a or b if isinstance(a, bool) and isinstance(b, bool) else UNKNOWN,
}
_PARSER: BicepParser | None = None


def parse(path: Path) -> dict:
    global _PARSER
    if _PARSER is None:
        _PARSER = BicepParser()
    return _PARSER.parse(file_path=path)


@dataclass
class BicepFile:
    path: Path
    doc: dict
    bound: dict[str, Any] = field(default_factory=dict)  # parameter values passed in, loop items

    @classmethod
    def load(cls, path: Path, passed: dict[str, Any] | None = None) -> BicepFile:
        return cls(path, parse(path), dict(passed or {}))

    @property
    def params(self) -> dict:
        return self.doc.get("parameters", {})

    @property
    def variables(self) -> dict:
        return self.doc.get("variables", {})

    @property
    def modules(self) -> dict:
        return self.doc.get("modules", {})

    def var(self, name: str) -> Any:
        return self.value(self.variables[name]["value"])

    def module_params(self, module: str) -> dict[str, Any]:
        return self.value(self.modules[module]["config"]["params"])

    def child(self, module: str) -> BicepFile:
        """The local module file `module` points at, with the parameters this file passes to it."""
        source = self.modules[module]["detail"]["path"]
        return BicepFile.load((self.path.parent / source).resolve(), self.module_params(module))

    def value(self, node: Any) -> Any:
        if node is None or isinstance(node, bool | int | float):
            return node
        if isinstance(node, str):
            return self._name_or_text(node)
        if isinstance(node, list):
            return [self.value(item) for item in node]
        if isinstance(node, dict):
            if "loop_type" in node:
                return self._loop(node)
            if "operator" in node:
                return self._operator(node)
            if "function" in node:
                return self._function(node["function"])
            return {key: self.value(item) for key, item in node.items()}
        return UNKNOWN

    def _name_or_text(self, text: str) -> Any:
        if text in self.bound:
            return self.bound[text]
        if text in self.params:
            default = self.params[text].get("default")
            return UNKNOWN if default is None else self.value(default)
        if text in self.variables:
            return self.var(text)
        if text in self.modules or text in self.doc.get("resources", {}):
            return UNKNOWN
        if "${" in text:
            return _INTERPOLATION.sub(lambda m: str(self._interpolated(m.group(1).strip())), text)
        return text

    def _interpolated(self, expression: str) -> Any:
        return self._path(expression.split(".")) if _DOTTED_NAME.fullmatch(expression) else UNKNOWN

    def _access_path(self, node: dict) -> list[Any]:
        operands = node["operator"]["operands"]
        head, rest = operands["operand_1"], operands["operand_2"]
        tail = self._access_path(rest) if isinstance(rest, dict) else [rest]
        return [head, *tail]

    def _path(self, parts: list[Any]) -> Any:
        current = self._name_or_text(parts[0]) if isinstance(parts[0], str) else self.value(parts[0])
        for part in parts[1:]:
            if not isinstance(current, dict) or part not in current:
                return UNKNOWN
            current = current[part]
        return current

    def _loop(self, node: dict) -> Any:
        detail = node["loop_type"]["detail"]
        items = self._name_or_text(detail["array_name"])
        if node["loop_type"]["type"] != "array" or not isinstance(items, list):
            return UNKNOWN
        results = []
        for item in items:
            inner = BicepFile(self.path, self.doc, {**self.bound, detail["item_name"]: item})
            results.append(inner.value(node["config"]))
        return results

    def _operator(self, node: dict) -> Any:
        op = node["operator"]
        if op["type"] == "property_accessor":
            return self._path(self._access_path(node))
        if op["type"] == "conditional":
            operands = op["operands"]
            condition = self.value(operands["condition"])
            if isinstance(condition, bool):
                return self.value(operands["true_value" if condition else "false_value"])
        if op["type"] == "not":
            value = self.value(op["operands"]["bool_value"])
            return (not value) if isinstance(value, bool) else UNKNOWN
        if op["type"] in _BINARY:
            left, right = (self.value(op["operands"][k]) for k in ("operand_1", "operand_2"))
            if left is not UNKNOWN and right is not UNKNOWN:
                return _BINARY[op["type"]](left, right)
        return UNKNOWN

    def _function(self, function: dict) -> Any:
        kind, parameters = function["type"], function.get("parameters") or {}
        if kind == "load_json_content" and not parameters.get("json_path"):
            return json.loads((self.path.parent / parameters["file_path"]).read_text(encoding="utf-8"))
        if kind == "join":
            items, delimiter = self.value(parameters["input_array"]), self.value(parameters["delimiter"])
            if (
                isinstance(items, list)
                and isinstance(delimiter, str)
                and all(isinstance(i, str) for i in items)
            ):
                return delimiter.join(items)
        if kind == "empty":
            item = self.value(parameters["item_to_test"])
            return len(item) == 0 if isinstance(item, str | list | dict) else UNKNOWN
        if kind == "concat":
            parts = [self.value(part) for part in parameters.values()]
            if all(isinstance(part, list) for part in parts):
                return [item for part in parts for item in part]
        return UNKNOWN
