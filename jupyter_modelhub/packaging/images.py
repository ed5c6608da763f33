"""Image records: which serving images were built for which model version, with what, how.

A version with an image record cannot be deleted until the record is removed (the registry's
deletion guard names it), like any other reference. A record carries where it was pushed
(``record_push``), one row per reference, written only once the registry's digest is checked.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..errors import NotFound
from ..store.database import Database
from ..store.orm import Image, ImagePush, Model, ModelVersion, utcnow
from ..timestamps import iso
from . import views


class ImageStore:
    def __init__(self, database: Database):
        self.db = database

    def record(
        self,
        *,
        tag: str,
        image_id: str,
        model: str,
        version: int,
        environment_id: int,
        size: int,
        report: dict,
        labels: dict,
        user: str = "",
    ) -> dict:
        def write(session: Session) -> int:
            version_id = session.scalar(
                select(ModelVersion.id)
                .join(ModelVersion.model)
                .where(Model.name == model, ModelVersion.version == version)
            )
            if version_id is None:
                raise NotFound(f"{model}:{version} was deleted while its image was built.")
            row = Image(
                tag=tag,
                image_id=image_id,
                version_id=version_id,
                environment_id=environment_id,
                size=size,
                report=report,
                labels=labels,
                created_by=user,
            )
            session.add(row)
            session.flush()
            return row.id

        return self.get(self.db.write(write))

    def record_push(self, image: int, reference: str, digest: str, user: str = "") -> views.ImageRecord:
        """Record that image record ``image`` is in a registry as ``reference`` with ``digest``
        (the same reference pushed again updates its row); returns the record."""

        def write(session: Session) -> int:
            row = session.get(Image, image)
            if row is None:
                raise NotFound(f"Image {image} was deleted while it was pushed; the registry has it as {reference}.")
            push = session.scalars(
                select(ImagePush).where(ImagePush.image_record_id == image, ImagePush.reference == reference)
            ).first()
            if push is None:
                push = ImagePush(image_record_id=image, reference=reference)
                session.add(push)
            push.digest, push.pushed_time, push.pushed_by = digest, utcnow(), user
            return row.id

        return self.image(self.db.write(write))

    def image(self, image: int | str) -> views.ImageRecord:
        """The record of ``image``: its number, or its tag (the newest record of that tag)."""
        with self.db.read() as session:
            return self._describe(self._row(session, image))

    def get(self, image: int | str) -> dict:
        return self.image(image).as_dict()

    def latest_for_model(self, model: str) -> dict | None:
        """The newest image of any version of ``model`` (what a new build is compared with)."""
        with self.db.read() as session:
            row = session.scalars(
                select(Image)
                .join(Image.version)
                .join(ModelVersion.model)
                .where(Model.name == model)
                .order_by(Image.id.desc())
                .limit(1)
            ).first()
            return self._describe(row).as_dict() if row else None

    def images(self, model: str | None = None) -> views.ImageList:
        """Image records (of ``model``'s versions), newest first (the last 500)."""
        with self.db.read() as session:
            stmt = select(Image).options(selectinload(Image.pushes)).order_by(Image.id.desc())
            if model:
                stmt = stmt.join(Image.version).join(ModelVersion.model).where(Model.name == model)
            return views.ImageList(images=[self._describe(row) for row in session.scalars(stmt.limit(500))])

    def list(self, model: str | None = None) -> dict:
        return self.images(model).as_dict()

    def delete(self, image: int | str) -> tuple[dict, list[dict]]:
        """Remove a record; returns it and the other records of the same engine image (id, tag),
        which the engine image must stay for."""

        def write(session: Session) -> tuple[dict, list[dict]]:
            row = self._row(session, image)
            record = self._describe(row).as_dict()
            others = session.execute(
                select(Image.id, Image.tag).where(Image.image_id == row.image_id, Image.id != row.id).order_by(Image.id)
            ).all()
            session.delete(row)
            return record, [{"id": i, "tag": tag} for i, tag in others]

        return self.db.write(write)

    def image_ids(self) -> set[str]:
        """The engine image ids records refer to (never removed as a build's leftovers)."""
        with self.db.read() as session:
            return set(session.scalars(select(Image.image_id).distinct()))

    def references(self, session: Session) -> dict[str, list[str]]:
        """The registry's deletion guard: the images built from each version (by NAME:VERSION)."""
        rows = session.execute(
            select(Image.id, Image.tag, Model.name, ModelVersion.version)
            .join(ModelVersion, ModelVersion.id == Image.version_id)
            .join(Model, Model.id == ModelVersion.model_id)
            .order_by(Image.id)
        )
        used: dict[str, list[str]] = {}
        for image, tag, model, version in rows:
            used.setdefault(f"{model}:{version}", []).append(
                f"image {image} ({tag}); remove it with %image {image} --delete"
            )
        return used

    def _row(self, session: Session, image: int | str) -> Image:
        row = None
        if isinstance(image, int) or (isinstance(image, str) and image.isdigit() and len(image) < 12):
            row = session.get(Image, int(image))
        if row is None and isinstance(image, str):
            row = session.scalars(select(Image).where(Image.tag == image).order_by(Image.id.desc()).limit(1)).first()
        if row is None:
            raise NotFound(f"No image {image!r}; %images lists them, %package MODEL builds one.")
        return row

    @staticmethod
    def _describe(row: Image) -> views.ImageRecord:
        version = row.version
        return views.ImageRecord(
            id=row.id,
            tag=row.tag,
            image_id=row.image_id,
            model=version.model.name,
            version=version.version,
            ref=f"{version.model.name}:{version.version}",
            environment=f"{row.environment.name}:{row.environment.version}",
            environment_hash=row.environment.content_hash,
            size=row.size,
            report=row.report,
            labels=row.labels,
            built_time=iso(row.built_time),
            created_by=row.created_by,
            pushes=[
                views.ImagePush(
                    reference=push.reference,
                    digest=push.digest,
                    pinned=_pinned(push.reference, push.digest),
                    pushed_time=iso(push.pushed_time),
                    pushed_by=push.pushed_by,
                )
                for push in sorted(row.pushes, key=lambda p: (p.pushed_time, p.id), reverse=True)
            ],
        )


def _pinned(reference: str, digest: str) -> str:
    """``REGISTRY/REPO:TAG`` + digest -> ``REGISTRY/REPO@sha256:...`` (a port's colon is not a tag's)."""
    repository = reference.rpartition(":")[0] if ":" in reference.rsplit("/", 1)[-1] else reference
    return f"{repository}@{digest}"
