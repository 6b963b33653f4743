"""Load `function_app.py`'s `app` and describe each function by its trigger, as the host's indexer does.

`FunctionApp.get_functions()` may be called only once per app object (a second call raises on
"duplicate" names), so this module calls it exactly once and hands out plain descriptions.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("devhost")

SUPPORTED_TRIGGERS = ("blobTrigger", "queueTrigger", "timerTrigger", "httpTrigger")


class AppLoadError(RuntimeError):
    """The app directory does not hold a loadable v2-model function app."""


@dataclass(frozen=True)
class FunctionSpec:
    """One registered function: what triggers it and how to call it."""

    name: str
    trigger_type: str
    arg_name: str
    binding: dict[str, Any]
    func: Callable[..., Any]
    annotation: Any = None
    other_bindings: list[str] = field(default_factory=list)

    @property
    def function_id(self) -> str:
        """The id the real host uses in receipts, timer status and poison messages."""
        return f"Host.Functions.{self.name}"

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.func)

    @property
    def route(self) -> str:
        """An HTTP function's route template (without the host's prefix); the function name if unset."""
        return str(self.binding.get("route") or self.name)

    @property
    def methods(self) -> tuple[str, ...] | None:
        """An HTTP function's methods, upper case; None when it accepts every method."""
        methods = self.binding.get("methods")
        if not methods:
            return None
        return tuple(str(getattr(m, "value", m)).strip().upper() for m in methods)


def _import_app_module(app_dir: Path) -> Any:
    if not app_dir.exists():
        raise AppLoadError(f"app directory {app_dir} does not exist")
    if not app_dir.is_dir():
        raise AppLoadError(f"{app_dir} is not a directory")
    script = app_dir / "function_app.py"
    if not script.is_file():
        raise AppLoadError(
            f"{app_dir} has no function_app.py: devhost serves Python v2-model apps "
            "(a function_app.py defining `app = func.FunctionApp()`)"
        )
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    spec = importlib.util.spec_from_file_location("function_app", script)
    if spec is None or spec.loader is None:
        raise AppLoadError(f"cannot import {script}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["function_app"] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop("function_app", None)
        raise AppLoadError(f"importing {script} failed: {type(exc).__name__}: {exc}") from exc
    return module


def _annotation(func: Callable[..., Any], arg_name: str) -> Any:
    try:
        signature = inspect.signature(func, eval_str=True)
    except (NameError, TypeError, ValueError):
        signature = inspect.signature(func)
    parameter = signature.parameters.get(arg_name)
    if parameter is None:
        raise AppLoadError(f"function {func.__name__} has no parameter {arg_name!r} for its trigger binding")
    return None if parameter.annotation is inspect.Parameter.empty else parameter.annotation


class _DropAuthLevelNotice(logging.Filter):
    """get_functions() warns about HTTP auth levels on every non-HTTP app: noise for devhost users."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Auth level is not applied" not in record.getMessage()


def _is_http_response(trigger_type: str, binding: dict[str, Any]) -> bool:
    """An HTTP function's `http` output binding for its return value: devhost serves it, it is no extra
    (an `http` output to a `func.Out` parameter is one: devhost does not pass such parameters)."""
    return trigger_type == "httpTrigger" and (binding.get("type"), binding.get("name")) == ("http", "$return")


def load_functions(app_dir: Path) -> list[FunctionSpec]:
    """Import the app and return its functions; triggers devhost cannot serve are logged and left out."""
    from azure.functions.decorators.function_app import FunctionRegister

    module = _import_app_module(app_dir)
    app = getattr(module, "app", None)
    if app is None:
        raise AppLoadError(
            f"{app_dir / 'function_app.py'} defines no `app` (expected app = func.FunctionApp())"
        )
    if not isinstance(app, FunctionRegister):
        raise AppLoadError(
            f"`app` in function_app.py is a {type(app).__name__}, not an azure.functions.FunctionApp"
        )
    quiet = _DropAuthLevelNotice()
    logging.getLogger().addFilter(quiet)
    try:
        functions = app.get_functions()
    except Exception as exc:
        raise AppLoadError(f"the app's functions cannot be indexed: {exc}") from exc
    finally:
        logging.getLogger().removeFilter(quiet)

    specs: list[FunctionSpec] = []
    for function in functions:
        trigger = function.get_trigger()
        name = function.get_function_name()
        binding = trigger.get_dict_repr() if trigger is not None else {}
        trigger_type = str(binding.get("type", ""))
        if trigger_type not in SUPPORTED_TRIGGERS:
            log.warning(
                "function %s: devhost does not serve %r triggers; it will not run", name, trigger_type
            )
            continue
        user_function = function.get_user_function()
        others = [
            str(b.get_dict_repr().get("type"))
            for b in function.get_bindings()
            if b is not trigger and not _is_http_response(trigger_type, b.get_dict_repr())
        ]
        if others:
            log.warning("function %s: devhost ignores its extra bindings %s", name, others)
        specs.append(
            FunctionSpec(
                name=name,
                trigger_type=trigger_type,
                arg_name=str(binding["name"]),
                binding=binding,
                func=user_function,
                annotation=_annotation(user_function, str(binding["name"])),
                other_bindings=others,
            )
        )
    return specs
