"""The governance part of the client: who may do what to a model, the history of changes,
rolling an alias or an endpoint's traffic back, and the evidence promotions need (evaluations,
approvals) (mixed into ModelHubClient)."""

from __future__ import annotations

from urllib.parse import quote

from .. import display
from ..errors import Forbidden, NotFound


class GovernanceMethods:
    """``permissions``, ``grant``, ``revoke``, ``history``, ``rollback_alias``, ``rollback_traffic``,
    ``evaluate``, ``approve`` and ``promotion``."""

    def permissions(self, name: str) -> display.Permissions:
        """Who may do what to model ``name``: its creator, the grants, the admins, the default
        and your own permission."""
        return display.Permissions(self._call("GET", f"models/{quote(name, safe='')}/permissions"))

    def grant(self, name: str, principal: str, permission: str) -> display.Permissions:
        """Give ``principal`` (``user:NAME``, ``group:NAME``, ``everyone``; a bare name is a user)
        ``permission`` (``read``, ``write``, ``manage``; ``none`` with ``everyone`` closes the
        model to all it does not name) on model ``name``. Needs ``manage`` on it."""
        body = {"principal": principal, "permission": permission}
        return display.Permissions(self._call("PUT", f"models/{quote(name, safe='')}/permissions", json=body))

    def revoke(self, name: str, principal: str) -> display.Permissions:
        """Take ``principal``'s grant on model ``name`` away (for ``everyone``: the server's default again)."""
        return self.grant(name, principal, "default")

    def history(
        self,
        name: str,
        *,
        endpoint: bool | None = None,
        action: str | None = None,
        user: str | None = None,
        since: str | None = None,
        until: str | None = None,
        at: str | None = None,
        limit: int | None = None,
    ) -> display.History:
        """The changes to model ``name`` (its versions, aliases, permissions, deployments) or, with
        ``endpoint=True`` or when no model has that name, to endpoint ``name``; newest first.
        ``action`` (comma-separated, e.g. ``alias.moved``), ``user``, ``since``/``until`` (a time
        such as ``2026-12-01T14:00``, or an age: ``1h``, ``7d``) filter; ``at`` (endpoints) also
        says what served the endpoint then."""
        params = {
            k: v
            for k, v in {"action": action, "user": user, "since": since, "until": until, "limit": limit}.items()
            if v is not None
        }
        segment = quote(name, safe="")
        if not endpoint and at is None:
            try:
                return display.History(self._call("GET", f"models/{segment}/history", params=params), name=name)
            except NotFound:
                if endpoint is False:
                    raise
        if at is not None:
            params["at"] = at
        return display.History(self._call("GET", f"endpoints/{segment}/history", params=params), name=name)

    def rollback_alias(self, name: str, alias: str) -> display.VersionInfo:
        """Point ``name@alias`` back at the version before its last move."""
        path = f"models/{quote(name, safe='')}/aliases/{quote(alias, safe='')}/rollback"
        return display.VersionInfo(self._call("POST", path))

    def rollback_traffic(self, name: str) -> display.EndpointInfo:
        """Return endpoint ``name``'s traffic and mirror to what they were before their last change."""
        return self._endpoint_info(self._call("POST", f"endpoints/{quote(name, safe='')}/traffic/rollback"))

    def promotion(self, ref: str) -> display.Promotion:
        """Version ``ref``'s checks for every alias under promotion rules, and its evidence."""
        return display.Promotion(self._call("GET", self._version_path(ref) + "/promotion"))

    def approve(self, ref: str, alias: str) -> display.Promotion:
        """Approve version ``ref`` for ``alias`` (not as its registrant)."""
        body = {"kind": "approval", "alias": alias}
        return display.Promotion(self._call("POST", self._version_path(ref) + "/evidence", json=body))

    def evaluate(self, ref: str, data, target: str, against: str | None = None) -> display.Evaluation:
        """Score version ``ref`` (and ``against``, e.g. ``churn@production``) on ``data`` (a
        DataFrame, or a CSV/Parquet/JSON file) with label column ``target``, in this kernel, and
        record the metrics as evidence for promotions."""
        from . import evaluation

        features, labels, name, digest = evaluation.read_data(data, target)
        mine = evaluation.metrics(labels, evaluation.predict(self, ref, features))
        body = {
            "kind": "evaluation",
            "metrics": mine,
            "data": {"name": name[:512], "sha256": digest, "rows": len(labels), "target": target},
        }
        if against is not None:
            body["against"] = against
            body["against_metrics"] = evaluation.metrics(labels, evaluation.predict(self, against, features))
        promotion = self._call("POST", self._version_path(ref) + "/evidence", json=body)
        return display.Evaluation({**body, "promotion": promotion})

    def record_parity(self, ref: str, result: dict) -> None:
        """Keep a parity result as evidence of version ``ref`` (promotion rules may need one);
        a user who may not change the model still sees the result."""
        body = {
            "kind": "parity",
            "passed": bool(result.get("same")),
            "target": str(result.get("target", ""))[:300],
            "summary": f"{len(result.get('differences') or [])} differences"
            + (f"; kernel error: {result['kernel_error']}" if result.get("kernel_error") else ""),
        }
        try:
            self._call("POST", self._version_path(ref) + "/evidence", json={**body, "summary": body["summary"][:2000]})
        except Forbidden:
            pass
