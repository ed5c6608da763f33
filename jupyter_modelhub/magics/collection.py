"""The payload collection magics: ``%collect`` (switch it on or off on a live endpoint, change its
settings) and ``%collected`` (show what was collected). ``%deploy --collect`` is in ``endpoints``.
"""

from __future__ import annotations

from html import escape

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .base import ModelHubMagics
from .endpoints import collection_options, what_to_collect

SHOWN_ROWS = 50  # rows of %collected's table; the DataFrame (.frame) has them all
SHOWN_BODY = 160  # characters of a body in the table


class CollectedTable:
    """Collected records: ``.frame`` is the DataFrame; shown as a bounded table (the newest rows)."""

    def __init__(self, endpoint: str, frame):
        self.endpoint, self.frame = endpoint, frame

    def _rows(self):
        shown = self.frame.tail(SHOWN_ROWS)
        columns = ["time", "request_id", "deployment", "version", "status", "latency_ms", "request", "response"]
        return shown, columns

    def _summary(self) -> str:
        count = len(self.frame)
        more = " (more matched: narrow --since or raise --limit)" if self.frame.attrs.get("more") else ""
        shown = f", the newest {SHOWN_ROWS} shown" if count > SHOWN_ROWS else ""
        return f"{count} collected requests of endpoint {self.endpoint!r}{shown}{more}"

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        shown, columns = self._rows()
        lines = [self._summary()]
        for row in shown.itertuples(index=False):
            lines.append("  ".join(_cell(getattr(row, c), 60 if c in ("request", "response") else 40) for c in columns))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        shown, columns = self._rows()
        head = "".join(f"<th>{escape(c)}</th>" for c in columns)
        body = "".join(
            "<tr>"
            + "".join(f"<td><code>{escape(_cell(getattr(row, c), SHOWN_BODY))}</code></td>" for c in columns)
            + "</tr>"
            for row in shown.itertuples(index=False)
        )
        return f"<p>{escape(self._summary())}</p><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value, width: int) -> str:
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    elif hasattr(value, "isoformat"):
        value = value.isoformat(timespec="milliseconds")
    elif isinstance(value, float):
        value = f"{value:.2f}"
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def collect_change(args) -> dict:
    """What %collect's (and the CLI's) arguments change; {}: nothing (show the settings)."""
    args.collect = None
    options = collection_options(args)
    if args.switch == "off":
        options["collect"] = []
    elif args.switch == "on" or args.collect_what:
        options["collect"] = what_to_collect(args.collect_what or "requests,responses")
    return options


@magics_class
class CollectionMagics(ModelHubMagics):
    """Record what endpoints are asked and answer, and look at it."""

    @magic_arguments()
    @argument("endpoint")
    @argument("switch", nargs="?", choices=["on", "off"], help="on or off (absent: change settings, or show them)")
    @argument("--what", dest="collect_what", help="what to record: requests, responses, or requests,responses")
    @argument("--sample-rate", type=float, help="the share of requests recorded, e.g. 0.1")
    @argument("--collect-retention", help="delete records older than this, e.g. 7d")
    @argument("--collect-max-bytes", help="keep at most this much, e.g. 1GB")
    @line_magic
    def collect(self, line: str):
        """Payload collection on a live endpoint, with no restart: ``%collect churn-ep on --sample-rate 0.1``,
        ``%collect churn-ep off``; ``%collect churn-ep`` shows the settings and counts."""
        args = self._parse(self.collect, line)
        options = collect_change(args)
        if not options:
            return self._call(self.hub.endpoint, args.endpoint).get("collect")
        return self._call(self.hub.collect, args.endpoint, **options)

    @magic_arguments()
    @argument("endpoint")
    @argument("--since", default="1h", help="a duration ago (1h, 30m, 7d) or an ISO time (default 1h)")
    @argument("--until", help="a duration ago or an ISO time (default now)")
    @argument("--limit", type=int, default=1000, help="the newest this many (default 1000, at most 10000)")
    @line_magic
    def collected(self, line: str):
        """What an endpoint collected: ``%collected churn-ep --since 1h``; ``.frame`` is the DataFrame
        (``hub.collected(...)`` returns it directly)."""
        args = self._parse(self.collected, line)
        if args.limit < 1:
            raise UsageError("--limit is at least 1.")
        frame = self._call(self.hub.collected, args.endpoint, since=args.since, until=args.until, limit=args.limit)
        return CollectedTable(args.endpoint, frame)
