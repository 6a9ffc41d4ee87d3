"""The ``http`` check: one request (redirects followed by hand), conditions on what came back.

Addresses are vetted before every hop, including each redirect: link-local and cloud-metadata
addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254) are always refused; loopback and private
ranges only with ``MONITOR_ALLOW_PRIVATE`` (the panel would otherwise be a proxy into the
network it runs in). The name is resolved here and the request then resolves it again, so a
DNS answer that changes in between (rebinding) is not caught: monitors are set up by admins
only, which is the trust boundary this guards, not a hostile public user.
Bodies are read up to ``MONITOR_BODY_LIMIT`` bytes; a keyword past that is not found.
"""
from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import threading
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

MAX_REDIRECTS = 5
ALWAYS_REFUSED = [ipaddress.ip_network(n) for n in (
    "169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "0.0.0.0/8", "::/128", "224.0.0.0/4",
    "ff00::/8")]


class CheckFailed(Exception):
    """The check ran and the target is not healthy; the message is what users see.

    ``figures`` holds what was measured before the failure (latency, status code).
    """

    def __init__(self, message: str, figures: dict | None = None):
        super().__init__(message)
        self.figures = figures or {}


def vet_host(host: str, port: int, allow_private: bool) -> None:
    """Refuse a host whose addresses are link-local/metadata, or private unless allowed."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise CheckFailed(f"cannot resolve {host}: {exc}") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%")[0])
        if getattr(addr, "ipv4_mapped", None):
            addr = addr.ipv4_mapped
        if any(addr in net for net in ALWAYS_REFUSED):
            raise CheckFailed(f"refused: {host} resolves to {addr}, a link-local or metadata address")
        if not allow_private and (addr.is_private or addr.is_loopback or addr.is_reserved):
            raise CheckFailed(f"refused: {host} resolves to the private address {addr} "
                              "(set MONITOR_ALLOW_PRIVATE=true to allow private targets)")


def _read_capped(resp: requests.Response, limit: int) -> bytes:
    chunks, size = [], 0
    for chunk in resp.iter_content(chunk_size=16_384):
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def tls_days_left(host: str, port: int, timeout: float) -> float:
    """Days until the certificate of ``host:port`` expires (verified against the system CAs)."""
    ctx = ssl.create_default_context()
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as tls:
            cert = tls.getpeercert()
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), timezone.utc)
    return (expires - datetime.now(timezone.utc)).total_seconds() / 86_400


def json_condition(body: bytes, path: str, expected: Any) -> None:
    """Fail unless ``path`` finds a value in the JSON ``body`` (equal to ``expected`` if given)."""
    import json

    from jsonpath_ng.ext import parse

    try:
        doc = json.loads(body)
    except ValueError:
        raise CheckFailed("the body is not JSON (json_path condition)") from None
    found = [m.value for m in parse(path).find(doc)]
    if not found:
        raise CheckFailed(f"json_path {path} found nothing")
    if expected is None:
        return
    value = found[0]
    same = value == expected or (not isinstance(value, (dict, list)) and str(value) == str(expected))
    if isinstance(value, bool) != isinstance(expected, bool) and not isinstance(expected, str):
        same = False
    if not same:
        raise CheckFailed(f"json_path {path} is {str(value)[:60]!r}, expected {str(expected)[:60]!r}")


_local = threading.local()
PREPARED_PER_THREAD = 512  # first-hop requests kept per worker thread (one per monitor and URL)


def _session() -> requests.Session:
    """This worker thread's HTTP session: building one per check cost more CPU than the check.

    Connections to a target are kept alive between its checks; cookies are not kept, so no
    monitor ever sends what another target set.
    """
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.trust_env = False  # a proxy from the environment would hide the real target
        _local.prepared = {}
        # What ``Session.request`` merges into every send; without the environment
        # (``trust_env``) it does not depend on the URL, so it is worked out once.
        _local.send_settings = session.merge_environment_settings(None, {}, True, None, None)
    session.cookies.clear()
    return session


def _request(session: requests.Session, method: str, url: str, cfg: dict,
             timeout: float) -> requests.Response:
    """``session.request(method, url, ...)`` as the check always sent it, without redirects.

    While the session holds no cookie (every first hop: they are cleared per check), the
    prepared request depends only on the method, URL, headers and body, so it is built once
    per worker thread and a copy sent: preparing it was about a fifth of a check's CPU. With a
    cookie from an earlier hop it is prepared afresh, cookies and all.
    """
    headers, body = cfg.get("headers") or {}, cfg.get("body") or None
    if len(session.cookies):
        return session.request(method, url, headers=headers, data=body, timeout=timeout,
                               allow_redirects=False, stream=True)
    key = (method, url, tuple(headers.items()), body)
    prepared = _local.prepared.get(key)
    if prepared is None:
        if len(_local.prepared) >= PREPARED_PER_THREAD:
            _local.prepared.clear()
        prepared = _local.prepared[key] = session.prepare_request(requests.Request(
            method=method.upper(), url=url, headers=headers, data=body or {}, params={}))
    return session.send(prepared.copy(), timeout=timeout, allow_redirects=False,
                        **_local.send_settings)


def check_http(cfg: dict, timeout: float, settings: dict) -> dict:
    """Run one http check; returns figures (latency, status...) or raises ``CheckFailed``."""
    allow_private = bool(settings.get("MONITOR_ALLOW_PRIVATE"))
    limit = int(settings.get("MONITOR_BODY_LIMIT") or 1_048_576)
    url, method = cfg["url"], cfg.get("method", "GET")
    session = _session()
    began = time.perf_counter()
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise CheckFailed(f"refused: redirect to a non-http address {url[:100]}")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            vet_host(parts.hostname, port, allow_private)
            resp = _request(session, method, url, cfg, timeout)
            if resp.is_redirect and cfg.get("follow_redirects", True):
                url = urljoin(url, resp.headers.get("Location", ""))
                resp.close()
                if resp.status_code in (301, 302, 303) and method != "HEAD":
                    method = "GET"
                continue
            break
        else:
            raise CheckFailed(f"more than {MAX_REDIRECTS} redirects")
        body = _read_capped(resp, limit)
        resp.close()
    except requests.Timeout:
        raise CheckFailed(f"timed out after {timeout:g} s") from None
    except requests.ConnectionError as exc:
        raise CheckFailed(f"connection failed: {_short(exc)}") from None
    except requests.RequestException as exc:
        raise CheckFailed(f"request failed: {_short(exc)}") from None
    latency = (time.perf_counter() - began) * 1000
    figures: dict[str, Any] = {"latency_ms": latency, "status_code": resp.status_code}
    if not any(lo <= resp.status_code <= hi for lo, hi in cfg.get("expected_status") or [[200, 399]]):
        raise CheckFailed(f"HTTP {resp.status_code}", figures)
    if cfg.get("max_response_ms") and latency > cfg["max_response_ms"]:
        raise CheckFailed(f"slow: {latency:.0f} ms > {cfg['max_response_ms']:g} ms", figures)
    keyword = cfg.get("keyword")
    if keyword:
        text = body.decode(resp.encoding or "utf-8", errors="replace")
        present = keyword in text
        if present == bool(cfg.get("keyword_absent")):
            raise CheckFailed(f"keyword {keyword[:40]!r} {'found' if present else 'not found'}", figures)
    if cfg.get("json_path"):
        try:
            json_condition(body, cfg["json_path"], cfg.get("json_expected"))
        except CheckFailed as exc:
            raise CheckFailed(str(exc), figures) from None
    if cfg.get("tls_days_min") is not None and urlsplit(url).scheme == "https":
        parts = urlsplit(url)
        try:
            days = tls_days_left(parts.hostname, parts.port or 443, timeout)
        except (OSError, ssl.SSLError, KeyError, ValueError) as exc:
            raise CheckFailed(f"TLS certificate unreadable: {_short(exc)}", figures) from None
        figures["tls_days_left"] = round(days, 1)
        if days < cfg["tls_days_min"]:
            raise CheckFailed(f"TLS certificate expires in {days:.0f} days", figures)
    return figures


def _short(exc: Exception) -> str:
    text = str(exc)
    # "[Errno 111] Connection refused" says it all; the pool's wrapping around it does not.
    errno = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if errno:
        return errno.group(1).strip()[:160]
    # urllib3 wraps the reason in pool details; the last part is what a user understands.
    if "Caused by" in text:
        text = text.split("Caused by", 1)[1].strip(" ()")
    return text[:160]
