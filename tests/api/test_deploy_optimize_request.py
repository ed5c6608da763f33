"""The deploy request's ``optimize`` field as the REST API checks it: a JSON boolean, documented,
and refused with a 400 naming it when it is anything else (what it does: tests/endpoints)."""

from __future__ import annotations

import pytest

from jupyter_modelhub.api.openapi import openapi_document


def test_optimize_is_documented_as_a_boolean_defaulting_to_false():
    field = openapi_document()["components"]["schemas"]["DeployRequest"]["properties"]["optimize"]
    assert field["type"] == "boolean" and field["default"] is False and "ONNX form" in field["description"]


@pytest.mark.parametrize("value", ["yes", 1, None, [True]])
async def test_anything_but_a_boolean_is_a_400_naming_optimize(api, value):
    code, body = await api("POST", "endpoints/ep/deployments", {"model": "churn:1", "optimize": value})
    assert code == 400 and "optimize" in body["message"], body


async def test_a_boolean_is_accepted_and_the_model_is_what_is_missing(api):
    code, body = await api("POST", "endpoints/ep/deployments", {"model": "churn:1", "optimize": True})
    assert code == 404 and "churn" in body["message"], body
