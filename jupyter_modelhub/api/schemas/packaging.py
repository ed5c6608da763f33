"""Packaging: environments (requirements locked by content) and images of a version, their
requests and records.

The records are the models of ``packaging.views`` (the environment and image stores build them),
re-exported here.

Not here: the parity check of a packaged model against its registration (``parity``).
"""

from __future__ import annotations

from typing import Optional

from pydantic import Field

from ...packaging.references import MAX_REFERENCE as MAX_PUSH_REFERENCE
from ...packaging.views import (  # noqa: F401  (re-exported: packaging's response models)
    Environment,
    EnvironmentList,
    ImageList,
    ImagePush,
    ImageRecord,
)
from .common import MAX_PATH, Strict, text


class EnvironmentRequest(Strict):
    """an environment: name, requirements (pip lines) and/or conda (a conda YAML's text), python, base_image"""

    # requirements and conda: the bounds packaging/environments.py checks again wherever requirements enter
    name: str = Field(max_length=128)
    requirements: Optional[str] = Field(
        None, max_length=1_000_000, description="a requirements file's text: NAME or NAME==VERSION lines"
    )
    conda: Optional[str] = Field(
        None, max_length=100_000, description="a conda environment file's text; its pip section is used"
    )
    python: Optional[str] = Field(None, max_length=16, description="the image's Python version, e.g. 3.11")
    base_image: Optional[str] = Field(None, max_length=256)


class EntryScriptPath(Strict):
    path: text(MAX_PATH) = Field(description="absolute path of an Azure-style score.py under the server's root")


class PackageRequest(Strict):
    """what to package: model, and optionally environment, requirements, conda, entry_script, tag, base_image, context, push"""

    model: str = Field(max_length=300, description="NAME, NAME:VERSION or NAME@ALIAS")
    environment: Optional[str] = Field(None, max_length=200, description="NAME or NAME:VERSION of an environment")
    requirements: Optional[str] = Field(
        None, max_length=1_000_000, description="a requirements file's text (an environment is made of it)"
    )
    conda: Optional[str] = Field(None, max_length=100_000)
    entry_script: Optional[str] = Field(
        None, max_length=4096, description="absolute path of an entry script under the server's root"
    )
    tag: Optional[str] = Field(None, max_length=256, description="image tag, default modelhub/NAME:VERSION")
    base_image: Optional[str] = Field(None, max_length=256)
    context: Optional[str] = Field(
        None,
        max_length=4096,
        description="write the build context into this folder (under the server's root) instead of building",
    )
    no_cache: bool = Field(False, description="rebuild every layer, reusing nothing from the engine's cache")
    push: Optional[str] = Field(
        None,
        max_length=MAX_PUSH_REFERENCE,
        description="after the build, push the image to REGISTRY/REPO[:TAG] (default tag: the image's)",
    )


class PushRequest(Strict):
    """where to push an image: reference REGISTRY/REPO[:TAG]"""

    reference: str = Field(
        max_length=MAX_PUSH_REFERENCE,
        description="REGISTRY/REPO[:TAG], e.g. registry.example.com/team/churn:2 (default tag: the image's)",
    )
