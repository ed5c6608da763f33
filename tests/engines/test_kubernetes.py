"""The Kubernetes target: manifests validated against Kubernetes' own schemas (offline, strict:
no cluster can run here), and a deploy through a real server that builds or reuses the image on
a real Docker engine and writes them."""

from __future__ import annotations

import pytest
import yaml
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.docker import BASE_IMAGE
from helpers.servers import ServerProcess
from jupyter_modelhub.deploy.targets.kubernetes import manifests

kubernetes_validate = pytest.importorskip("kubernetes_validate")
KUBERNETES = "1.30"

X, y = make_classification(200, 6, random_state=0)


def validate(document: dict) -> None:
    kubernetes_validate.validate(document, KUBERNETES, strict=True)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"cpu": 0.5, "memory": "512M"},
        {"cpu": 2, "memory": "2Gi", "max_instances": 5, "instances": 2},
        {"gpu": True, "namespace": "models"},
    ],
    ids=["plain", "resources", "autoscaled", "gpu"],
)
def test_every_manifest_is_valid_kubernetes(options):
    documents = manifests(
        endpoint="churn-ep", deployment="blue", image="modelhub/churn:2", model="churn", version=2, **options
    )
    for document in documents:
        validate(document)
    kinds = [d["kind"] for d in documents]
    assert kinds == ["Deployment", "Service"] + (["HorizontalPodAutoscaler"] if options.get("max_instances") else [])
    container = documents[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    if "cpu" in options:
        assert container["resources"]["limits"]["cpu"] == ("500m" if options["cpu"] == 0.5 else "2")
    if options.get("gpu"):
        assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    if options.get("max_instances"):
        assert documents[2]["spec"]["maxReplicas"] == 5 and documents[2]["spec"]["minReplicas"] == 2


def test_kserve_gets_an_inference_service_in_raw_deployment_mode():
    (service,) = manifests(
        endpoint="churn-ep",
        deployment="blue",
        image="modelhub/churn:2",
        model="churn",
        version=2,
        kserve=True,
        max_instances=3,
        cpu=1,
    )
    assert service["apiVersion"] == "serving.kserve.io/v1beta1" and service["kind"] == "InferenceService"
    assert service["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"
    predictor = service["spec"]["predictor"]
    assert predictor["maxReplicas"] == 3 and predictor["containers"][0]["image"] == "modelhub/churn:2"
    # KServe's container is a core/v1 Container: check it against Kubernetes' schema through a Pod
    validate(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "check"},
            "spec": {"containers": predictor["containers"]},
        }
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory, docker_client):
    s = ServerProcess(tmp_path_factory.mktemp("k8s"), args=[f"--Packager.base_image={BASE_IMAGE}"])
    s.client().register("kube", LogisticRegression().fit(X, y), sample=X[:3])
    yield s
    s.stop()


def test_deploy_to_kubernetes_builds_the_image_and_writes_valid_manifests(server):
    hub = server.client()
    result = hub.deploy("kube-ep", "kube:1", target="kubernetes", cpu=0.5, memory="512M", max_instances=4)
    assert result["kinds"] == ["Deployment", "Service", "HorizontalPodAutoscaler"]
    assert result["image"] == "modelhub/kube:1" and result["applied"] == [] and "kubectl apply" in result["apply"]
    documents = list(yaml.safe_load_all(open(result["manifests"])))
    for document in documents:
        validate(document)
    assert documents[0]["spec"]["template"]["spec"]["containers"][0]["image"] == "modelhub/kube:1"
    assert result["pushed"] is False
    image_id = server.client().images()["images"][0]["id"]
    assert f"a cluster cannot pull a local image: push it with %image {image_id} --push REGISTRY/REPO" in result.text()
    again = hub.deploy("kube-ep", "kube:1", target="kubernetes", kserve=True)
    assert again["image_reused"] is True and again["kinds"] == ["InferenceService"], "the same content reuses the image"


@pytest.mark.parametrize(
    "body, words",
    [
        ({"model": "kube:1", "target": "kubernetes", "memory": "12XB"}, "Invalid --memory"),
        ({"model": "kube:1", "target": "kubernetes", "max_instances": 1, "instances": 2}, "Invalid --max-instances"),
        ({"model": "kube:1", "target": "kubernetes", "namespace": "Not_Valid"}, "Invalid namespace"),
        ({"model": "kube:1", "target": "kubernetes", "image": "Bad Image"}, "Invalid image"),
        ({"model": "kube:1", "cpu": 1}, "only apply with target docker or kubernetes"),
        ({"model": "kube:9", "target": "kubernetes"}, "no version 9"),
    ],
)
def test_bad_kubernetes_deploys_are_refused_at_once(server, body, words):
    before = server.client().operations(kind="deploy")["total"]
    response = server.session.post(server.url + "modelhub/api/endpoints/kube-bad/deployments", json=body, timeout=60)
    assert response.status_code in (400, 404) and words in response.json()["message"], response.text
    assert server.client().operations(kind="deploy")["total"] == before
