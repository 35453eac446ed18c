"""*Leads/Prospect > Contact* and *Purchase > Supplier*: a company's contacts
or suppliers, searched and paged, and the edit dialog whose *Settings* tab
holds the *Accountancy booking codes* (contacts) or *Specific booking codes*
(suppliers).

Both screens are the same pages on their own paths (`SCREENS`):

* `GET {path}?company=REF&q=&offset=`: the list (htmx swaps only the list
  while a search is typed);
* `GET {path}/{id}?company=REF`: the edit dialog's content for htmx, else a
  page of its own (without JavaScript);
* `GET {path}/check-code?company=REF&exact_code=`: a sentence on the code,
  asked of Exact as it is typed;
* `POST {path}/{id}?company=REF`: saves the booking codes (admins and
  bookkeepers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledgerbridge import booking_codes
from ledgerbridge.domain.parties import BookingCodes
from ledgerbridge.domain.problems import InvalidInput
from ledgerbridge.domain.vat_catalogue import VAT_SCENARIOS
from ledgerbridge.intake import CUSTOMER, SUPPLIER
from ledgerbridge.queries import parties as queries
from ledgerbridge.storage.tables import CompanyRow
from ledgerbridge.users import Role
from ledgerbridge.web.api.deps import SessionDep
from ledgerbridge.web.api.runs import get_runner
from ledgerbridge.web.pages.companies import chosen_company, company_choices
from ledgerbridge.web.pages.errors import PageError, require_role
from ledgerbridge.web.pages.render import render
from ledgerbridge.web.pages.sessions import CurrentUser, PageUser

router = APIRouter(include_in_schema=False)

EDITORS = (Role.ADMIN, Role.BOOKKEEPER)
CODE_FIELDS = ("exact_code", "gl_account", "vat_scenario", "cost_centre")


@dataclass(frozen=True, slots=True)
class Screen:
    """What differs between the contacts and the suppliers."""

    role: str
    path: str
    section: str
    title: str
    word: str
    words: str
    codes: str
    """The name of the booking codes' box in the Settings tab."""
    code_label: str
    gl_label: str


CONTACTS = Screen(
    role=CUSTOMER,
    path="/leads-prospect/contacts",
    section="Leads/Prospect",
    title="Contact",
    word="contact",
    words="contacts",
    codes="Accountancy booking codes",
    code_label="Customer code in Exact (debtor number)",
    gl_label="Revenue GL account",
)
SUPPLIERS = Screen(
    role=SUPPLIER,
    path="/purchase/suppliers",
    section="Purchase",
    title="Supplier",
    word="supplier",
    words="suppliers",
    codes="Specific booking codes",
    code_label="Supplier code in Exact (creditor number)",
    gl_label="Cost GL account",
)
SCREENS = (CONTACTS, SUPPLIERS)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _may_edit(page: PageUser) -> bool:
    return page.user.role in EDITORS


def _list_url(screen: Screen, company: CompanyRow, **more: Any) -> str:
    query = {"company": company.ref, **{k: v for k, v in more.items() if v}}
    return f"{screen.path}?{urlencode(query)}"


def _party_or_404(
    session: SessionDep, screen: Screen, company: CompanyRow, party_id: int
) -> queries.PartyDetail:
    party = queries.get_party(session, company, screen.role, party_id)
    if party is None:
        raise _not_found(screen, company, party_id)
    return party


def _not_found(screen: Screen, company: CompanyRow, party_id: int) -> PageError:
    return PageError(
        404,
        f"{screen.title} not found",
        f"There is no {screen.word} {party_id} in {company.name}. Choose one in "
        f"the list of {screen.section} > {screen.title}.",
    )


# The list


def _list_page(
    screen: Screen,
) -> Callable[..., HTMLResponse]:
    def page_view(
        request: Request,
        session: SessionDep,
        page: CurrentUser,
        company: str | None = None,
        q: str = "",
        offset: int = 0,
        saved: int | None = None,
    ) -> HTMLResponse:
        chosen = chosen_company(session, page, company)
        found = queries.list_parties(session, chosen, screen.role, q, offset)
        saved_party = (
            queries.get_party(session, chosen, screen.role, saved) if saved else None
        )
        return render(
            request,
            "parties.html",
            {
                "title": f"{screen.section} > {screen.title}",
                "screen": screen,
                "company": chosen,
                "companies": company_choices(session, page),
                "found": found,
                "saved": saved_party,
                "list_url": lambda **more: _list_url(screen, chosen, **more),
            },
            page_user=page,
        )

    page_view.__name__ = f"list_{screen.words}"
    return page_view


# The edit dialog


def _form_context(
    screen: Screen,
    company: CompanyRow,
    party: queries.PartyDetail,
    page: PageUser,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    in_dialog: bool,
) -> dict[str, Any]:
    current = {name: getattr(party, name) or "" for name in CODE_FIELDS}
    scenarios = [s for s in VAT_SCENARIOS.values() if s.country == company.country]
    return {
        "title": f"{party.name} · {screen.title}",
        "screen": screen,
        "company": company,
        "party": party,
        "values": values if values is not None else current,
        "errors": errors or {},
        "scenarios": scenarios,
        "may_edit": _may_edit(page),
        "in_dialog": in_dialog,
        "tab": "settings" if errors else "general",
        "action": f"{screen.path}/{party.id}?{urlencode({'company': company.ref})}",
        "check_url": f"{screen.path}/check-code?{urlencode({'company': company.ref})}",
        "list_url": _list_url(screen, company),
    }


def _edit_page(screen: Screen) -> Callable[..., HTMLResponse]:
    def page_view(
        request: Request,
        party_id: int,
        session: SessionDep,
        page: CurrentUser,
        company: str | None = None,
    ) -> HTMLResponse:
        chosen = chosen_company(session, page, company)
        party = _party_or_404(session, screen, chosen, party_id)
        in_dialog = _is_htmx(request)
        context = _form_context(screen, chosen, party, page, in_dialog=in_dialog)
        template = "parties_form.html" if in_dialog else "parties_edit.html"
        return render(request, template, context, page_user=page)

    page_view.__name__ = f"edit_{screen.word}"
    return page_view


def _save(screen: Screen) -> Callable[..., Response]:
    def save_view(
        request: Request,
        party_id: int,
        session: SessionDep,
        page: CurrentUser,
        company: str | None = None,
        exact_code: Annotated[str, Form()] = "",
        gl_account: Annotated[str, Form()] = "",
        vat_scenario: Annotated[str, Form()] = "",
        cost_centre: Annotated[str, Form()] = "",
    ) -> Response:
        chosen = chosen_company(session, page, company)
        require_role(page, *EDITORS)
        party = _party_or_404(session, screen, chosen, party_id)
        values = {
            "exact_code": exact_code.strip(),
            "gl_account": gl_account.strip(),
            "vat_scenario": vat_scenario.strip(),
            "cost_centre": cost_centre.strip(),
        }
        codes = BookingCodes(**{name: value or None for name, value in values.items()})

        try:
            booking_codes.save(session, chosen, screen.role, party.id, codes)
        except booking_codes.UnknownParty:
            raise _not_found(screen, chosen, party_id) from None
        except InvalidInput as exc:
            session.rollback()
            errors = booking_codes.field_sentences(exc.problems)
            in_dialog = _is_htmx(request)
            context = _form_context(
                screen,
                chosen,
                party,
                page,
                values=values,
                errors=errors,
                in_dialog=in_dialog,
            )
            # htmx swaps only a 2xx answer: the dialog gets its form back with
            # the sentences; the page of its own says 422.
            if in_dialog:
                return render(request, "parties_form.html", context, page_user=page)
            return render(
                request, "parties_edit.html", context, page_user=page, status_code=422
            )
        session.commit()

        back = _list_url(screen, chosen, saved=party.id)
        if _is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": back})
        return RedirectResponse(back, status_code=303)

    save_view.__name__ = f"save_{screen.word}"
    return save_view


def _check_code(screen: Screen) -> Callable[..., HTMLResponse]:
    def check_view(
        request: Request,
        session: SessionDep,
        page: CurrentUser,
        company: str | None = None,
        exact_code: str = "",
    ) -> HTMLResponse:
        chosen = chosen_company(session, page, company)
        require_role(page, *EDITORS)
        found = booking_codes.look_up(
            session, get_runner(request).client, chosen, screen.role, exact_code
        )
        return render(request, "parties_code.html", {"lookup": found}, page_user=page)

    check_view.__name__ = f"check_{screen.word}_code"
    return check_view


for _screen in SCREENS:
    router.add_api_route(_screen.path, _list_page(_screen), methods=["GET"])
    router.add_api_route(
        f"{_screen.path}/check-code", _check_code(_screen), methods=["GET"]
    )
    router.add_api_route(
        f"{_screen.path}/{{party_id}}", _edit_page(_screen), methods=["GET"]
    )
    router.add_api_route(
        f"{_screen.path}/{{party_id}}", _save(_screen), methods=["POST"]
    )
