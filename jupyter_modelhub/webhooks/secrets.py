"""A webhook's secret: kept encrypted in the database, used to sign each payload.

The secret must be readable by the server (it signs with it), so it cannot be hashed like a
password. It is encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under
a key that never enters the database: ``c.ModelHubApp.webhook_key`` or ``$MODELHUB_WEBHOOK_KEY``
when given (servers sharing a registry give the same key to share the deliveries), else a key
file the server creates in its root folder, readable by its owner only (mode 0600, in a folder
of mode 0700). A copy of the database (a backup, another user of a shared PostgreSQL) holds no
usable secret. The API returns a secret once, in the answer to the request that created it,
and never logs it; each webhook records the id of the key it was encrypted with, and only the
servers holding that key deliver it.

Signing: ``X-Modelhub-Signature: sha256=HEX``, the HMAC-SHA256 of the exact body bytes with the
secret, as GitHub's ``X-Hub-Signature-256``; receivers compare it in constant time.

Not here: the deliveries (``dispatcher``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from ..errors import InvalidInput

KEY_FILE = "webhook.key"
KEY_ENV = "MODELHUB_WEBHOOK_KEY"


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for ``body``: ``sha256=`` and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, body), header or "")


class SecretBox:
    """Encrypts and decrypts webhook secrets with this server's key."""

    def __init__(self, root: Path | str, key: str = ""):
        key = key or os.environ.get(KEY_ENV, "")
        raw = key.encode() if key else self._key_file(Path(root))
        try:
            self._fernet = Fernet(raw)
        except ValueError:
            raise InvalidInput(
                "The webhook key (c.ModelHubApp.webhook_key or $MODELHUB_WEBHOOK_KEY) is not a Fernet key: make one "
                'with python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())".'
            ) from None
        # names the key without revealing it: the deliveries of a webhook need the key it was made with
        self.key_id = hashlib.sha256(b"modelhub-webhook-key:" + raw).hexdigest()[:16]

    @staticmethod
    def _key_file(root: Path) -> bytes:
        path = root / KEY_FILE
        if not path.exists():
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:  # another process of this root made it first
                return path.read_bytes().strip()
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key())
        return path.read_bytes().strip()

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str | None:
        """The secret, or None when it was sealed with another key (or damaged)."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None
