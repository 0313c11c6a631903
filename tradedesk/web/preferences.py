"""The trader's display preferences on the page: the time zone every time is shown in, and which colour is up."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orders import doors, selectors
from orders.errors import TradedeskError
from orders.models import ColourConvention, Project
from tradedesk.middleware import SESSION_TIME_ZONE_KEY
from tradedesk.web.access import DeskRequest, desk_view, page_url, pick_project, project_or_404
from tradedesk.web.forms import ColoursForm, TimeZoneForm
from tradedesk.web.presenters import render_page, time_zone_context

# The event the colour choice's answer raises (HX-Trigger): desk.js moves its value onto <html data-colours>.
COLOURS_EVENT = "td-colours"


def _page_project(request: DeskRequest) -> tuple[Project, list[Project]]:
    projects = list(selectors.projects_for_user(user=request.user).order_by("name"))
    raw = request.POST.get("project")
    project = project_or_404(request, raw) if raw else pick_project(request, projects)
    if project is None:
        raise Http404(_("Project not found"))
    return project, projects


@desk_view
@require_POST
def time_zone_set(request: DeskRequest) -> HttpResponse:
    """Store the trader's time zone and reload the page in it; an unknown zone is refused with a form error."""
    form = TimeZoneForm(request.POST)
    project, projects = _page_project(request)
    if form.is_valid():
        try:
            name = doors.time_zone_remember(user=request.user, time_zone=form.cleaned_data["time_zone"])
        except TradedeskError:
            form.refuse()
        else:
            request.session[SESSION_TIME_ZONE_KEY] = name
            messages.success(request, _("Times are shown in %(zone)s.") % {"zone": name})
            if request.htmx:
                return HttpResponse(status=204, headers={"HX-Redirect": page_url(project)})
            return HttpResponseRedirect(page_url(project))
    if request.htmx:
        context = {"project": project, **time_zone_context(form)}
        return render(request, "orders/partials/time_zone.html", context, status=422)
    return render_page(request, project, projects, status=422, tz_form=form)


@desk_view
@require_POST
def colours_set(request: DeskRequest) -> HttpResponse:
    """Store the trader's colour convention; HTMX gets the control back and the page's root flips without a
    reload, a plain form post goes back to the page. Anything but the two conventions is a form error."""
    form = ColoursForm(request.POST)
    project, projects = _page_project(request)
    if form.is_valid():
        try:
            name = doors.colour_convention_remember(
                user=request.user, convention=form.cleaned_data["colours"]
            )
        except TradedeskError:
            form.refuse()
        else:
            messages.success(
                request, _("Colours: %(convention)s.") % {"convention": ColourConvention(name).label}
            )
            if not request.htmx:
                return HttpResponseRedirect(page_url(project))
            response = render(request, "orders/partials/colours_response.html", {"project": project})
            response["HX-Trigger"] = json.dumps({COLOURS_EVENT: name})
            return response
    if request.htmx:
        context = {"project": project, "colours_form": form}
        return render(request, "orders/partials/colours.html", context, status=422)
    return render_page(request, project, projects, status=422, colours_form=form)
