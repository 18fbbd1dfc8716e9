"""Property-based requests against the OpenAPI schema (schemathesis) on a running `k2d3 serve`:
no input gives a 5xx, and every 4xx names the field and what was wrong.

The server runs with one worker and a short budget (6 s estimated per request, no jobs), so
generated requests that would run long are answered with their 422 instead of queueing."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error


@pytest.fixture(scope="module")
def api_schema(live_server):
    base = live_server("--workers", "1", "--sync-budget", "6", "--job-limit", "6")
    return schemathesis.openapi.from_url(base + "/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


def names_the_problem(ctx, response, case):
    """Every 4xx answer is {"error": "field: problem", "field": ..., "problem": ...}."""
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict) and body.get("field") and body.get("problem"), response.text
        assert body["error"] == f"{body['field']}: {body['problem']}", response.text


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_5xx_and_every_4xx_names_the_problem(case):
    case.call_and_validate(checks=[not_a_server_error, names_the_problem])
