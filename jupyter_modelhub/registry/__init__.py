"""The model registry: models, versions, tags, properties, aliases, search, and deletion guards.

``service`` is the ModelRegistry itself; ``search`` builds the listing queries (``tagfilter``
is their filter grammar); ``validation`` checks what a registration or change sends;
``events`` is the one change feed every service writes; ``views`` holds the response models
the REST API answers and documents; ``version_actions`` says what a panel may offer for a version.
"""

from ..timestamps import iso
from .service import ModelRegistry, References

__all__ = ["ModelRegistry", "References", "iso"]
