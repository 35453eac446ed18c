"""*Dashboard*: per company, charts drawn as SVG on the server (no script):
documents booked and failed per day over the last 30 days, payments
imported per day, Exact calls made per day, and today's calls against the
daily limit Exact reported. Each chart comes with its figures as a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ledgerbridge.queries import dashboard as figures
from ledgerbridge.storage.types import utcnow
from ledgerbridge.web.api.deps import SessionDep
from ledgerbridge.web.pages.companies import chosen_company, company_choices
from ledgerbridge.web.pages.render import render
from ledgerbridge.web.pages.sessions import CurrentUser

router = APIRouter(include_in_schema=False)

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 712, 16, 220
"""The plot area inside the view box; labels go around it."""


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    key: str
    colour: str
    total: int


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class DayLabel:
    x: float
    label: str
    anchor: str = "middle"


@dataclass(frozen=True, slots=True)
class Chart:
    id: str
    title: str
    summary: str
    series: tuple[Series, ...]
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    days: tuple[DayLabel, ...]


def nice_top(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is at least `value`."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def bar_chart(
    id: str,
    title: str,
    days: tuple[figures.Day, ...],
    series: list[tuple[str, str, str]],
) -> Chart:
    """Bars per day, side by side per series ((name, field, colour))."""
    top = nice_top(max([1, *(getattr(d, key) for d in days for _, key, _ in series)]))
    plot_height = BOTTOM - TOP
    group = (RIGHT - LEFT) / max(len(days), 1)
    width = group * 0.8 / len(series)
    bars = []
    for index, day in enumerate(days):
        for position, (name, key, colour) in enumerate(series):
            value = getattr(day, key)
            height = plot_height * value / top
            bars.append(
                Bar(
                    x=round(LEFT + index * group + group * 0.1 + position * width, 2),
                    y=round(BOTTOM - height, 2),
                    width=round(width, 2),
                    height=round(height, 2),
                    colour=colour,
                    label=f"{_day(day.day)}: {value} {name.lower()}",
                )
            )
    ticks = tuple(
        Tick(round(BOTTOM - plot_height * share, 2), str(round(top * share)))
        for share in ((0, 1) if top < 2 else (0, 0.5, 1))
    )
    labels = tuple(
        DayLabel(round(LEFT + index * group + group / 2, 2), _day(day.day))
        for index, day in enumerate(days)
        if index % 5 == 0 and index < len(days) - 3
    ) + ((DayLabel(RIGHT, _day(days[-1].day), "end"),) if days else ())
    totals = tuple(
        Series(name, key, colour, sum(getattr(d, key) for d in days))
        for name, key, colour in series
    )
    span = f"{days[0].day} to {days[-1].day}" if days else ""
    summary = (
        f"{title}, {span}: "
        + ", ".join(f"{s.total} {s.name.lower()} in all" for s in totals)
        + ". The table below gives the figure of each day."
    )
    return Chart(id, title, summary, totals, tuple(bars), ticks, labels)


def _day(day: date) -> str:
    return day.strftime("%d %b")


@router.get("/dashboard")
def dashboard_page(
    request: Request, session: SessionDep, page: CurrentUser, company: str | None = None
) -> HTMLResponse:
    row = chosen_company(session, page, company)
    shown = figures.dashboard(session, row, utcnow())
    documents = bar_chart(
        "documents",
        "Documents booked and failed per day",
        shown.days,
        [("Booked", "booked", "#1d6b35"), ("Failed", "failed", "#a4161a")],
    )
    payments = bar_chart(
        "payments",
        "Payments imported per day",
        shown.days,
        [("Payments", "payments", "#0b57a4")],
    )
    calls = bar_chart(
        "calls",
        "Exact calls made by runs per day",
        shown.days,
        [("Calls", "calls", "#6b4c9a")],
    )
    limit = shown.limit
    share = 0.0 if limit is None or limit.limit <= 0 else limit.used / limit.limit
    return render(
        request,
        "dashboard.html",
        {
            "title": "Dashboard",
            "company": row,
            "companies": company_choices(session, page),
            "shown": shown,
            "charts": (documents, payments, calls),
            "limit": limit,
            "gauge_width": round((RIGHT - LEFT) * min(share, 1.0), 2),
            "percent": round(share * 100),
            "when": figures.zone_of(row),
            "geometry": {
                "width": WIDTH,
                "height": HEIGHT,
                "left": LEFT,
                "right": RIGHT,
                "top": TOP,
                "bottom": BOTTOM,
            },
        },
        page_user=page,
    )
