"""Schemathesis fuzzes every documented operation in-process, logged in as an admin.

Valid inputs must never get a 5xx and every answer must match the document; invalid inputs
must get a documented 4xx JSON error. Examples per operation are bounded so the run stays short.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.checks import (
    content_type_conformance, negative_data_rejection, not_a_server_error, response_schema_conformance,
    status_code_conformance,
)

from services import openapi_spec

EXAMPLES = 12
POSITIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
                   response_schema_conformance]
NEGATIVE_CHECKS = POSITIVE_CHECKS + [negative_data_rejection]
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                         phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck))


def fuzz(app, operation, mode, headers, cookies):
    checks = POSITIVE_CHECKS if mode is GenerationMode.POSITIVE else NEGATIVE_CHECKS

    @FUZZ_SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(app=app, headers=headers, cookies=cookies)
        case.validate_response(response, checks=checks)
        if response.status_code >= 400:
            # Every refusal is the JSON error shape, never an HTML page.
            content_type = (response.headers.get("content-type") or [""])[0]
            assert content_type.startswith("application/json"), (
                f"{case.method} {case.formatted_path} answered {response.status_code} {content_type}")

    run()


def without_security(doc):
    """The document minus its security requirements: the test logs in itself, so the generator
    must not treat the session cookie or the keys as inputs to leave out."""
    doc.pop("security", None)
    for item in doc["paths"].values():
        for operation in item.values():
            operation.pop("security", None)
    return doc


@pytest.mark.sqlite_only
@pytest.mark.timeout(180)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_fuzz_every_operation(app, admin_client, mode):
    schema = schemathesis.openapi.from_dict(without_security(openapi_spec.spec_for(app)))
    cookie = admin_client.get_cookie("admin_session")
    assert cookie is not None
    headers = {"X-CSRFToken": admin_client.csrf, "Authorization": "Bearer test-ingest-key"}
    cookies = {"admin_session": cookie.value}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures = []
    for operation in operations:
        try:
            fuzz(app, operation, mode, headers, cookies)
        except Unsatisfiable:
            # Nothing to make invalid (no parameters, no body): the positive run covers it.
            assert mode is GenerationMode.NEGATIVE, f"{operation.method} {operation.path}"
        except (Exception, FailureGroup) as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:3000]}")
    summary = [f.split(":", 1)[0] for f in failures]
    assert not failures, f"{len(failures)} operations failed: {summary}\n\n" + "\n\n".join(failures)
