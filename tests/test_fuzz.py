"""The fuzz suite: no input answers 5xx or leaves a traceback in the server's log.

Three runs, each on SQLite and on PostgreSQL, logged in as an admin (session cookie and
X-CSRFToken):

- schemathesis over the app's own OpenAPI document, every operation, valid and invalid
  inputs; every answer must match the document, every refusal be the JSON error shape;
- every query parameter of every operation with values known to have broken servers
  (digits that are not ASCII, integers past any column, NUL, huge text, case-folding traps);
- hypothesis over the ingest body: any JSON a sender might post is stored whole (202, the
  counts as sent) or refused whole (4xx naming what was wrong, nothing stored).

Examples per operation are bounded so the whole file runs in about a minute;
``FUZZ_EXAMPLES=200`` explores further locally.
"""
from __future__ import annotations

import json
import logging
import os
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance, negative_data_rejection, not_a_server_error, response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from sqlalchemy import func, select

import database
from services.ingest import Transaction, UserActivity
from services.logs import LogEntry
from services.openapi import spec as openapi_spec
from tests.helpers import INGEST

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
POSITIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
                   response_schema_conformance]
NEGATIVE_CHECKS = POSITIVE_CHECKS + [negative_data_rejection]
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                         phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck))


@pytest.fixture
def server_log(caplog):
    """What the server logged during the test; after it, no traceback and nothing at ERROR."""
    caplog.set_level(logging.WARNING)
    yield caplog
    records = caplog.get_records("setup") + caplog.get_records("call")  # .records is teardown's
    bad = [r for r in records if r.exc_info or r.levelno >= logging.ERROR]
    assert not bad, "\n".join(f"{r.name}: {r.getMessage()}" for r in bad[:10])


def _is_json_error(response) -> bool:
    content_type = response.headers.get("content-type") or ""
    if isinstance(content_type, list):  # schemathesis' response object keeps header lists
        content_type = content_type[0] if content_type else ""
    return content_type.startswith("application/json")


def fuzz(app, operation, mode, headers, cookies):
    checks = POSITIVE_CHECKS if mode is GenerationMode.POSITIVE else NEGATIVE_CHECKS

    @FUZZ_SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(app=app, headers=headers, cookies=cookies)
        case.validate_response(response, checks=checks)
        if response.status_code >= 400:
            # Every refusal is the JSON error shape, never an HTML page.
            assert _is_json_error(response), (
                f"{case.method} {case.formatted_path} answered {response.status_code}")

    run()


def without_security(doc):
    """The document minus its security requirements: the test logs in itself, so the generator
    must not treat the session cookie or the keys as inputs to leave out."""
    doc.pop("security", None)
    for item in doc["paths"].values():
        for operation in item.values():
            operation.pop("security", None)
    return doc


def _login(admin_client) -> tuple[dict, dict]:
    cookie = admin_client.get_cookie("admin_session")
    assert cookie is not None
    return ({"X-CSRFToken": admin_client.csrf, **INGEST}, {"admin_session": cookie.value})


def fuzz_operations(app, operations, mode, headers, cookies) -> list[str]:
    """Fuzz each operation; returns every operation's failure ("METHOD path: what broke") so a run
    reports them all together instead of stopping at the first."""
    failures = []
    for operation in operations:
        try:
            fuzz(app, operation, mode, headers, cookies)
        except Unsatisfiable:
            # Nothing to make invalid (no parameters, no body): the positive run covers it.
            assert mode is GenerationMode.NEGATIVE, f"{operation.method} {operation.path}"
        except (Exception, FailureGroup) as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:3000]}")
    return failures


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_fuzz_every_operation(app, admin_client, server_log, mode):
    schema = schemathesis.openapi.from_dict(without_security(openapi_spec.spec_for(app)))
    headers, cookies = _login(admin_client)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures = fuzz_operations(app, operations, mode, headers, cookies)
    summary = [f.split(":", 1)[0] for f in failures]
    assert not failures, f"{len(failures)} operations failed: {summary}\n\n" + "\n\n".join(failures)


# Values that broke servers before: digits Python's int() reads but a database does not,
# numbers past every column, NUL and other controls, text far over any cap, and letters that
# case folding turns into ASCII ones.
HOSTILE_VALUES = [
    "²", "١٢", "٣", "99999999999999999999999999", "9223372036854775808", "2147483648",
    "-1", "-99999999999999999999", "1e309", "NaN", "Infinity", "0x10", "1_000", " 12 ",
    "9" * 4000, "\x00", "a\x00b", "\x1b[31m", "line\nbreak", "\u2028", "x" * 20_000,
    "ısd", "\u212a", "ſ", "ınfo", "%", "\\", "'", '"', "../../etc/passwd", "<script>",
    "+", " ", "[]", "{}", "true", "null", "Ärger", "🔥", "\ufeff",
]


def _query_targets(app) -> list[tuple[str, str, list[str]]]:
    """(method, path with ids filled in, query parameter names) of every documented operation."""
    targets = []
    for path, item in openapi_spec.spec_for(app)["paths"].items():
        for method, operation in item.items():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            if names:
                targets.append((method.upper(), path.replace("{alert_id}", "1")
                                .replace("{rule_id}", "1"), names))
    return targets


@pytest.mark.timeout(300)
def test_hostile_query_values_on_every_parameter(app, admin_client, server_log):
    targets = _query_targets(app)
    assert len(targets) >= 10
    answers = 0
    for method, path, names in targets:
        for name in names:
            for value in HOSTILE_VALUES:
                resp = admin_client.api(method, f"{path}?{name}={quote(value)}")
                answers += 1
                assert resp.status_code < 500, (method, path, name, value[:40], resp.status_code)
                if resp.status_code >= 400:
                    assert resp.get_json()["error"]["message"], (path, name, value[:40])
    assert answers >= 500


# Batches a sender might post: items valid but for a field or two holding anything (NUL, lone
# surrogates, huge numbers, folding traps, nested values), stray keys, and bodies that are not
# a batch at all.
NASTY_TEXT = ["\x00", "\udfff", "\ud800", "ısd", "\u212a", "²", "ınfo", "2026-11-01T10:00:00Z",
              "completed", "EUR", "INFO", "web", "9" * 4000]
texts = st.one_of(st.text(max_size=30), st.sampled_from(NASTY_TEXT),
                  st.builds(str.__add__, st.text(max_size=10), st.sampled_from(NASTY_TEXT)))
scalars = st.one_of(texts, st.integers(min_value=-(10**30), max_value=10**30), st.booleans(),
                    st.none(), st.floats(allow_nan=True, allow_infinity=True),
                    st.integers(min_value=0, max_value=10**12))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(texts, inner, max_size=3)),
                      max_leaves=8)
# A word with what no database stores (NUL, a lone surrogate) somewhere in it.
unstorable = st.builds(lambda a, bad, b: a + bad + b, st.text(max_size=5),
                       st.sampled_from(["\x00", "\udfff", "\ud800"]), st.text(max_size=5))
WHEN = "2026-11-01T10:00:00Z"
words = st.text(st.characters(categories=["L", "N", "P", "S", "Zs"]), min_size=1, max_size=20) \
    .filter(str.strip)
VALID = {
    "transactions": st.fixed_dictionaries(
        {"id": st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True),
         "amount_cents": st.integers(min_value=0, max_value=10**6),
         "currency": st.sampled_from(["EUR", "usd", "JPY"]),
         "status": st.sampled_from(["completed", "pending", "failed", "refunded"]),
         "customer_id": words, "created_at": st.just(WHEN)},
        optional={"channel": st.sampled_from(["web", "app"]), "updated_at": st.just(WHEN)}),
    "activities": st.fixed_dictionaries(
        {"user_id": words, "action": words},
        optional={"detail": words, "created_at": st.just(WHEN)}),
    "logs": st.fixed_dictionaries(
        {"service": st.sampled_from(["web", "payments"]), "level": st.sampled_from(["INFO", "warn"]),
         "message": words},
        optional={"logger": words, "created_at": st.just(WHEN)}),
}
FIELDS = {"transactions": ["id", "amount_cents", "currency", "status", "customer_id", "created_at",
                           "updated_at", "channel", "stray"],
          "activities": ["user_id", "action", "detail", "created_at", "stray"],
          "logs": ["service", "level", "message", "logger", "created_at", "stray"]}


def _items(kind: str):
    # Valid but for at most one field, which holds text more often than not: that is what
    # gets past validation to the database.
    change = st.tuples(st.sampled_from(FIELDS[kind]), st.one_of(unstorable, texts, values))
    return st.builds(lambda item, extra: {**item, **dict(extra)}, VALID[kind],
                     st.lists(change, max_size=1))


batches = st.fixed_dictionaries({}, optional={kind: st.lists(_items(kind), max_size=2)
                                             for kind in FIELDS})
# Bodies that are not a batch: stray keys, any JSON value, nesting past the limit.
not_batches = st.one_of(
    st.dictionaries(st.sampled_from(["transactions", "logs", "other"]), values, max_size=2),
    st.fixed_dictionaries({"activities": st.lists(values, min_size=1, max_size=2)}),
    values,
    st.integers(min_value=1, max_value=60).map(lambda depth: "[" * depth + "]" * depth),
)


def _stored(app) -> tuple[int, int, int]:
    with database.session_scope(app) as s:
        return tuple(s.scalar(select(func.count()).select_from(t))
                     for t in (Transaction, UserActivity, LogEntry))


def _post_batch(app, client, body) -> None:
    """Post ``body``; it must be stored whole (202, the counts as sent) or refused whole."""
    raw = body if isinstance(body, str) and body.startswith("[") else json.dumps(body)
    before = _stored(app)
    resp = client.post("/api/v1/events", data=raw, headers=INGEST, content_type="application/json")
    assert resp.status_code in (202, 400, 413), (resp.status_code, raw[:300])
    after = _stored(app)
    if resp.status_code == 202:
        accepted = resp.get_json()["accepted"]
        assert accepted == {k: len(body.get(k) or []) for k in ("transactions", "activities", "logs")}
        # Every activity and log stored (a transaction id sent again updates its row instead).
        assert after[1:] == (before[1] + accepted["activities"], before[2] + accepted["logs"])
    else:
        error = resp.get_json()["error"]
        assert error["code"] and error["message"]
        if error["code"] == "invalid_item":
            assert {"kind", "index"} <= set(error), error
        assert after == before, "a refused batch stored something"


@pytest.mark.timeout(300)
def test_hypothesis_over_the_ingest_body(app, client, server_log):
    def run(strategy, examples):
        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(body=strategy)
        def check(body):
            _post_batch(app, client, body)

        check()

    run(batches, EXAMPLES * 5)
    run(not_batches, EXAMPLES)
