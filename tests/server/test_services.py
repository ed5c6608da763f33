"""The composition root: a service class configured as ``c.ModelHubApp.<service>_class`` is the
one the server uses and the one the operation workers build (``services.build_services`` for
both), so a site's own service is never half applied."""

from __future__ import annotations

import textwrap

import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.servers import ServerProcess, wait_until

X, y = make_classification(100, 4, random_state=0)

SITE_CONVERTER = textwrap.dedent('''
    from jupyter_modelhub.convert import ModelConverter
    from jupyter_modelhub.errors import InvalidInput


    class SiteConverter(ModelConverter):
        """A site's converter: a tolerance policy checked in the server, a stamp added in the worker."""

        def check(self, ref, to, dtype, tolerance, opset):
            if tolerance is not None and tolerance > 0.01:
                raise InvalidInput(f"Site policy: a tolerance above 0.01 is refused (got {tolerance}).")
            return super().check(ref, to, dtype, tolerance, opset)

        def convert(self, *args, **kwargs):
            return {**super().convert(*args, **kwargs), "converted_by": type(self).__name__}
''')


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("root")
    (folder / "site_converter.py").write_text(SITE_CONVERTER)
    s = ServerProcess(
        folder,
        extra_env={"PYTHONPATH": str(folder)},
        args=["--ModelHubApp.converter_class=site_converter.SiteConverter", "--ModelConverter.timing_budget=0.1"],
    )
    s.client().register("churn", LogisticRegression().fit(X, y), sample=X[:5])
    yield s
    s.stop()


def api(server: ServerProcess, method: str, path: str, **kwargs) -> requests.Response:
    return server.session.request(method, server.url + "modelhub/api/" + path, timeout=30, **kwargs)


def test_a_configured_service_class_is_used_by_the_server_and_by_the_worker(server):
    refused = api(server, "POST", "models/churn/versions/1/convert", json={"tolerance": 0.5})
    assert refused.status_code == 400 and "Site policy" in refused.json()["message"], refused.text

    accepted = api(server, "POST", "models/churn/versions/1/convert", json={"sample": X[:20].tolist()})
    assert accepted.status_code == 202, accepted.text
    operation_id = accepted.json()["id"]

    def ended():
        operation = api(server, "GET", f"operations/{operation_id}").json()
        return operation if not operation["active"] else None

    operation = wait_until(ended, 180, f"conversion {operation_id} to end")
    assert operation["status"] == "succeeded", operation
    assert operation["result"]["converted_by"] == "SiteConverter", "the worker built the configured class"
