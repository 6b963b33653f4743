"""Proxy and CA-bundle environment, read once per client instead of on every request.

Why: with `trust_env` on, `requests` (under the Azure SDKs and our Form Recognizer client) scans the
whole environment for proxies and looks for `~/.netrc` on every call: ~0.2 ms of CPU each, which on
the local stack is CPU the engine needs. When no proxy is configured the answer cannot change, so
clients are built with `trust_env` off and the CA bundle, if one is set, passed explicitly. With a
proxy variable set nothing changes: `requests` keeps reading the environment (and `no_proxy`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import requests

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def proxy_configured(env: Mapping[str, str]) -> bool:
    names = {name.lower() for name, value in env.items() if value}
    return any(name in names for name in PROXY_VARIABLES)


def ca_bundle(env: Mapping[str, str]) -> str | None:
    """The CA bundle `requests` would pick from the environment (same order), if any."""
    return next((env[name] for name in CA_BUNDLE_VARIABLES if env.get(name)), None)


def sdk_client_options(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Keyword arguments for an Azure SDK client's transport."""
    env = os.environ if env is None else env
    if proxy_configured(env):
        return {}
    bundle = ca_bundle(env)
    return {"use_env_settings": False, **({"connection_verify": bundle} if bundle else {})}


def configure_session(session: requests.Session, env: Mapping[str, str] | None = None) -> requests.Session:
    """The same for a plain `requests.Session`."""
    env = os.environ if env is None else env
    if not proxy_configured(env):
        session.trust_env = False
        bundle = ca_bundle(env)
        if bundle:
            session.verify = bundle
    return session
