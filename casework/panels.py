"""Sections that other apps add to the case page, without casework importing them.

An app registers a template and a function giving its context for (user, case); the
case page renders each registered panel in order.
"""

from collections.abc import Callable
from dataclasses import dataclass

from casework.models import Case, User


@dataclass(frozen=True)
class CasePanel:
    template: str
    context: Callable[[User, Case], dict]
    order: int


_PANELS: list[CasePanel] = []


def register_case_panel(template: str, context: Callable[[User, Case], dict], order: int) -> None:
    if any(p.template == template for p in _PANELS):
        return
    _PANELS.append(CasePanel(template, context, order))
    _PANELS.sort(key=lambda p: p.order)


def case_panels(user: User, case: Case) -> list[tuple[str, dict]]:
    return [(panel.template, panel.context(user, case)) for panel in _PANELS]
