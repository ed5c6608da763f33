"""REST handlers of packaging: environments, images, and building an image (an operation).

``POST images`` checks the request at once (the version, names, paths, an engine to build on)
and answers 202 with the build operation; the image record is its result. ``POST
images/{image}/push`` checks the reference and the record the same way and answers 202 with the
push operation; the record with its push is the result.
"""

from __future__ import annotations

from ..errors import InvalidInput
from . import schemas
from .base import ModelHubHandler, route


class PackagingHandlerBase(ModelHubHandler):
    @property
    def packager(self):
        return self.settings["modelhub_packager"]

    async def require_image(self, image: str, action: str) -> None:
        """``write`` on the model an image serves."""
        record = await self.run(self.packager.images.image, image)
        await self.require_ref(record.model, "write", action)


class EnvironmentsHandler(PackagingHandlerBase):
    @route
    async def get(self):
        self.reply(await self.run(self.packager.environments.environments, self.get_query_argument("name", "") or None))

    @route
    async def post(self):
        """Lock and record an environment (200 with the existing version if the content is known)."""
        request = self.body(schemas.EnvironmentRequest)
        before = await self.run(self.packager.environments.list, request.name)
        result = await self.run(
            self.packager.environments.create,
            request.name,
            requirements=request.requirements,
            conda=request.conda,
            python=request.python or self.packager.python,
            base_image=request.base_image or self.packager.base_image,
            user=self.user_name,
        )
        known = {e["hash"] for e in before["environments"]}
        self.reply(result, status=200 if result["hash"] in known else 201)


class EnvironmentHandler(PackagingHandlerBase):
    @route
    async def get(self, name: str, version: str | None = None):
        number = None if version in (None, "", "latest") else _version_number(version)
        self.reply(await self.run(self.packager.environments.environment, name, number))


class ImagesHandler(PackagingHandlerBase):
    @route
    async def get(self):
        listing = await self.run(self.packager.images.images, self.get_query_argument("model", "") or None)
        listing.images = await self.only_readable(listing.images, lambda record: record.model)
        self.reply(listing)

    @route
    async def post(self):
        """Build a serving image of a model version, as an operation (202); the same content asked
        for while its build runs answers that build's operation."""
        body = self.body(schemas.PackageRequest)
        await self.require_ref(body.model, "write", "package it")
        request = await self.run(self.packager.prepare, body.model_dump(), user=self.user_name)
        if request.get("context"):
            self.reply(await self.run(self.packager.package, **request, user=self.user_name))
            return
        operation = await self.run(
            self.packager.submit_image_build, self.settings["modelhub_operations"], request, user=self.user_name
        )
        self.accepted(operation)


class ImageHandler(PackagingHandlerBase):
    @route
    async def get(self, image: str):
        self.reply(await self.run(self.packager.images.image, image))

    @route
    async def delete(self, image: str):
        """Remove the image record, and its engine image unless another record uses it (the answer says which)."""
        await self.require_image(image, "delete the image")
        self.reply(await self.run(self.packager.delete_image, image))


class ImagePushHandler(PackagingHandlerBase):
    @route
    async def post(self, image: str):
        """Push the record's image to REGISTRY/REPO[:TAG], as an operation (202); the same push
        asked for while it runs answers that operation."""
        await self.require_image(image, "push the image")
        request = self.body(schemas.PushRequest)
        pusher = self.packager.pusher
        inputs = await self.run(pusher.check, image, request.reference)
        self.accepted(await self.run(pusher.submit, self.settings["modelhub_operations"], inputs, user=self.user_name))


def _version_number(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise InvalidInput(f"Invalid environment version {text!r}: expected a number such as 2, or 'latest'.")
    return int(text)


class ParityHandler(ModelHubHandler):
    @route
    async def post(self):
        """What a container or endpoint answers to its version's input example, and its packages."""
        request = self.body(schemas.ParityRequest)
        self.reply(await self.run(self.settings["modelhub_parity"].probe, request.target))
