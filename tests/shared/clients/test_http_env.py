"""Clients read the proxy/CA environment once; with a proxy configured, `requests` keeps reading it."""

from __future__ import annotations

import requests

from devhost.connections import client_options
from shared.clients.http_env import configure_session, sdk_client_options

BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def test_without_a_proxy_the_environment_is_read_once_and_the_ca_bundle_kept() -> None:
    env = {"PATH": "/bin", "REQUESTS_CA_BUNDLE": BUNDLE}
    assert sdk_client_options(env) == {"use_env_settings": False, "connection_verify": BUNDLE}
    assert sdk_client_options({"CURL_CA_BUNDLE": BUNDLE}) == {"use_env_settings": False,
                                                              "connection_verify": BUNDLE}
    assert sdk_client_options({}) == {"use_env_settings": False}
    session = configure_session(requests.Session(), env)
    assert session.trust_env is False and session.verify == BUNDLE
    assert client_options(env) == sdk_client_options(env)  # devhost's copy agrees


def test_any_proxy_variable_keeps_requests_reading_the_environment() -> None:
    for name in ("HTTPS_PROXY", "http_proxy", "ALL_PROXY", "no_proxy"):
        env = {name: "http://proxy.invalid:3128", "REQUESTS_CA_BUNDLE": BUNDLE}
        assert sdk_client_options(env) == {}
        assert client_options(env) == {}
        session = configure_session(requests.Session(), env)
        assert session.trust_env is True and session.verify is True
    assert sdk_client_options({"HTTPS_PROXY": ""}) == {"use_env_settings": False}  # empty = unset
