"""The magics of operations: ``%operations`` lists long work, ``%operation ID`` shows one, its
log (``--log``, ``--follow``) or cancels it (``--cancel``)."""

from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .base import ModelHubMagics


@magics_class
class OperationMagics(ModelHubMagics):
    """See and stop what the server is busy with."""

    @magic_arguments()
    @argument("--kind", "-k", help="convert, deploy, image_build, image_push or batch")
    @argument("--status", "-s", help="queued, running, succeeded, failed or cancelled (comma-separated)")
    @argument("--subject", help="only operations about this model version or endpoint, e.g. churn:1")
    @argument("--limit", "-n", type=int, default=20, help="how many of the newest (default 20)")
    @line_magic
    def operations(self, line: str = ""):
        """List recent operations, newest first: ``%operations --status running``."""
        args = self._parse(self.operations, line)
        if not 1 <= args.limit <= 500:
            raise UsageError("--limit takes 1 to 500.")
        return self._call(
            self.hub.operations, kind=args.kind, status=args.status, subject=args.subject, per_page=args.limit
        )

    @magic_arguments()
    @argument("id", type=int, help="the operation's number, as %%operations shows it")
    @argument("--log", action="store_true", help="print its log")
    @argument("--tail", "-n", type=int, default=100, help="with --log: how many last lines")
    @argument("--follow", "-f", action="store_true", help="print its log as it is written, until it ends")
    @argument("--cancel", action="store_true", help="stop it and what it started")
    @argument("--wait", action="store_true", help="wait for it with a progress bar")
    @line_magic
    def operation(self, line: str):
        """One operation: ``%operation 12``, ``%operation 12 --log``, ``%operation 12 --cancel``."""
        args = self._parse(self.operation, line)
        operation = self._call(self.hub.operation, args.id)
        if args.cancel:
            return self._call(operation.cancel)
        if args.follow:
            try:
                for text in self._call(self.hub.follow_operation_log, args.id, args.tail):
                    print(text, flush=True)
            except KeyboardInterrupt:
                pass
            return self._call(operation.refresh)
        if args.log:
            print(self._call(operation.log, args.tail), end="")
            return None
        if args.wait and operation["active"]:
            self._wait(operation, f"{operation['kind']} {operation['subject']}")
        return operation
