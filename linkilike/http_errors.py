"""Error answers the views never see: 404 for paths no route matches, 405 for TRACE.

* Under ``/api/`` a 404 is JSON (``{"detail": …}``), as the OpenAPI schema documents for every
  operation: a path that matches no route (``<int:pk>`` given ``abc``, a brand slug with a dot)
  never reaches DRF, so without ``handler404`` a client parsing JSON got the HTML page for people.
* TRACE answers 405 on every route, before any view runs: no view here implements it, function
  views would otherwise answer it like a GET, and class-based ones differed (DRF checked
  authentication and tenancy first, so a fuzzed TRACE met 404 or 403 instead of 405).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from rest_framework.exceptions import MethodNotAllowed, NotFound

API_PREFIX = "/api/"
REFUSED_METHODS = frozenset({"TRACE"})
#: what a function view (no class to ask) is handed by the URLconf: it answers or refuses each itself.
FUNCTION_VIEW_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: JSON under /api/, the site's 404 page elsewhere."""
    if is_api_request(request):
        return JsonResponse({"detail": str(NotFound.default_detail)}, status=404)
    return defaults.page_not_found(request, exception)


def allowed_methods(view: Callable[..., Any]) -> list[str]:
    """The methods the view behind a URL answers, for the ``Allow`` header of a 405."""
    actions: dict[str, str] | None = getattr(view, "actions", None)  # a DRF viewset's method -> action map
    if actions:
        methods = {method.upper() for method in actions} | {"OPTIONS"}
    else:
        view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
        if view_class is None:
            return list(FUNCTION_VIEW_METHODS)
        methods = {method.upper() for method in view_class.http_method_names if hasattr(view_class, method)}
    if "GET" in methods:
        methods.add("HEAD")  # Django and DRF answer HEAD with the GET handler
    return [method for method in FUNCTION_VIEW_METHODS if method in methods and method not in REFUSED_METHODS]


class RefusedMethodMiddleware:
    """405 for TRACE on every route that exists; an unknown path goes on to its 404."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in REFUSED_METHODS:
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        allowed = allowed_methods(match.func)
        if is_api_request(request):
            detail = str(MethodNotAllowed.default_detail).format(method=request.method)
            response: HttpResponse = JsonResponse({"detail": detail}, status=405)
            response["Allow"] = ", ".join(allowed)
            return response
        return HttpResponseNotAllowed(allowed)
