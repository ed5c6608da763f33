"""What every result object shares: the dict with attribute access and reprs, and the bits of
HTML (styles, chips, state colours) the notebook displays are made of (sizes and counts in words:
``words.py``)."""

from __future__ import annotations

from html import escape

STYLE = (
    "<style>.mh-card{font-family:var(--jp-ui-font-family,sans-serif);font-size:13px}"
    ".mh-card table{border-collapse:collapse;margin:4px 0}"
    ".mh-card td,.mh-card th{padding:2px 8px;text-align:left;border-bottom:1px solid var(--jp-border-color2,#ddd)}"
    ".mh-chip{display:inline-block;padding:0 6px;margin:1px 2px;border-radius:8px;"
    "background:var(--jp-layout-color2,#eee);font-size:12px}"
    ".mh-alias{background:var(--jp-brand-color3,#cde)}"
    ".mh-muted{color:var(--jp-ui-font-color2,#777)}</style>"
)


def chips(items, cls: str = "") -> str:
    return "".join(f'<span class="mh-chip {cls}">{escape(str(i))}</span>' for i in items)


def tag_texts(tags: dict) -> list[str]:
    return [f"{k}={v}" for k, v in tags.items()]


class Result(dict):
    """A dict of API data with attribute access and reprs."""

    def __getattr__(self, key: str):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __repr__(self) -> str:
        return self.text()

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(self.text())

    def text(self) -> str:
        return dict.__repr__(self)


class Listing(Result):
    """A page or list of results (``items`` names the key): iterating it gives the items."""

    items = ""

    def __iter__(self):
        return iter(self[self.items])

    def __len__(self) -> int:
        return len(self[self.items])


STATE_COLOURS = {
    "healthy": "#2e7d32",
    "failed": "#c62828",
    "creating": "#ef6c00",
    "restarting": "#ef6c00",
    "updating": "#ef6c00",
    "stopped": "#757575",
}


def state_html(state: str, label: str | None = None) -> str:
    """``state`` in its colour (healthy green, failed red, ...); ``label`` if the words differ."""
    return f'<b style="color:{STATE_COLOURS.get(state, "#757575")}">{escape(label or state)}</b>'
