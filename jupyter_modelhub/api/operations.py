"""REST handlers of operations: list, show, follow the log, cancel.

Long work (a conversion, a deploy that builds) answers its POST with 202 and the operation;
clients then poll ``operations/{id}`` (or the events feed) and read the log here.
"""

from __future__ import annotations

from .base import ModelHubHandler, route

# any segment, so that a malformed id is answered 400 here rather than 404 by no route at all


class OperationHandlerBase(ModelHubHandler):
    @property
    def operations(self):
        return self.settings["modelhub_operations"]

    async def require_subject(self, operation_id: int, needed: str, action: str = "") -> None:
        """``needed`` on the model an operation is about (its subject, when that is a version)."""
        operation = await self.run(self.operations.operation, operation_id)
        await self.require_ref(operation.subject, needed, action)


class OperationsHandler(OperationHandlerBase):
    @route
    async def get(self):
        """Recent operations, newest first: filter by kind, status (comma-separated) and subject;
        those about models the user may not read are left out of the page."""
        page = await self.run(
            self.operations.page,
            kind=self.get_query_argument("kind", "") or None,
            status=self.get_query_argument("status", "") or None,
            subject=self.get_query_argument("subject", "") or None,
            page=self.query_int("page", 1, minimum=1),
            per_page=self.query_int("per_page", 50, minimum=1),
        )
        page.operations = await self.only_readable(page.operations, lambda op: op.subject)
        self.reply(page)


class OperationHandler(OperationHandlerBase):
    @route
    async def get(self, operation_id: str):
        number = self.parse_id("operation id", operation_id)
        await self.require_subject(number, "read")
        self.reply(await self.run(self.operations.operation, number))


class CancelHandler(OperationHandlerBase):
    @route
    async def post(self, operation_id: str):
        """Stop the work and what it started; 409 if it already ended."""
        await self.require_subject(self.parse_id("operation id", operation_id), "write", "cancel work on it")
        self.reply(
            await self.run(self.operations.cancel, self.parse_id("operation id", operation_id), user=self.user_name)
        )


class OperationLogHandler(OperationHandlerBase):
    """The operation's log: the last lines, or with follow=true a stream that ends with the operation."""

    @route
    async def get(self, operation_id: str):
        number = self.parse_id("operation id", operation_id)
        await self.require_subject(number, "read")

        async def ended() -> bool:
            return not (await self.run(self.operations.operation, number)).active

        await self.reply_log(
            lambda lines: self.operations.tail(number, lines), lambda: self.operations.log_path(number), done=ended
        )
