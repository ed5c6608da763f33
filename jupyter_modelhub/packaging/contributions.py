"""What packaging adds to the whole (``jupyter_modelhub.contributions``): the image build kind
(its wire name is ``image_build``, what clients filter by: ``%operations --kind image_build``), the
image push kind (``image_push``), and images as users of a version (an image built from a version
blocks its deletion)."""

from __future__ import annotations

from ..contributions import Contribution, OperationKind
from ..progress import Progress


def run_image_build(services, inputs: dict, progress: Progress) -> tuple[dict, dict]:
    """A serving image of a model version, with its build report (pushed too, with ``push``)."""
    options = dict(inputs)
    image = services.packager.package(options.pop("model"), user=options.pop("user", ""), progress=progress, **options)
    return image, {"type": "image", "id": image["id"], "tag": image["tag"]}


def remove_image_build_partials(services, operation_id: int) -> None:
    """After a build killed midway: the wheelhouse downloads it left half done."""
    services.packager.wheelhouse.remove_partials(operation_id)


def run_image_push(services, inputs: dict, progress: Progress) -> tuple[dict, dict]:
    """An image record's image pushed to a registry; the result is the record with the push."""
    image = services.packager.pusher.push(
        inputs["image"], inputs["reference"], user=inputs.get("user", ""), progress=progress
    )
    return image, {"type": "image", "id": image["id"], "tag": image["tag"]}


def image_references(services, session) -> dict[str, list[str]]:
    return services.packager.images.references(session)


IMAGE_BUILD = OperationKind("image_build", run=run_image_build, cleanup=remove_image_build_partials)
IMAGE_PUSH = OperationKind("image_push", run=run_image_push)
CONTRIBUTION = Contribution(kinds=(IMAGE_BUILD, IMAGE_PUSH), references=(image_references,))
