"""A mission's own cases in the import template's shape (CSV, XLSX), and the template.

Built on django-import-export: `CaseTransferResource` is a `Resource` whose fields are the
template's columns, and its `export()` gives the tablib `Dataset` that its formats write
as CSV or XLSX. Rows are assembled beforehand (one query per related table, not per
case) because a row spans six models.
"""

import io
import json
from collections import defaultdict

from django.utils.translation import gettext as _
from import_export import fields, resources
from import_export.formats.base_formats import CSV, XLSX
from openpyxl import load_workbook

from assistance.exports import _inert
from assistance.models import FollowUpVisit, ReintegrationPlan, ServiceRecord
from casework.models import Case, Mission
from interviews import questionnaire as qn
from screening.models import ScreeningVersion
from transfer import columns as c
from transfer.parsing import EXPORTED_MISSING

FORMATS = {"csv": CSV, "xlsx": XLSX}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class CaseTransferResource(resources.Resource):
    """The template's columns as django-import-export fields, over prepared row dicts."""

    def __init__(self, include_identifiers: bool, with_case_number: bool = True):
        super().__init__()
        names = c.headers(include_identifiers)
        if with_case_number:
            names = [*names, "case_number"]
        self.names = names
        self.fields = {
            name: fields.Field(
                column_name=name,
                dehydrate_method=lambda row, name=name: _inert(row.get(name, "")),
            )
            for name in names
        }

    def get_export_order(self):
        return self.names


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _answer_text(question: qn.Question, value) -> str:
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, list):
        return c.LIST_SEPARATOR.join(str(v) for v in value)
    return str(value)


def _screening_cells(version: ScreeningVersion | None, include_identifiers: bool) -> dict:
    if version is None:
        return {}
    cells = {}
    private = json.loads(version.private or "{}") if include_identifiers else {}
    for column in c.SCREENING_COLUMNS:
        question = column.question
        if question.key in version.missing:
            cells[column.name] = EXPORTED_MISSING[version.missing[question.key]]
        elif question.encrypted:
            if include_identifiers:
                cells[column.name] = _answer_text(question, private.get(question.key))
        else:
            cells[column.name] = _answer_text(question, version.coded.get(question.key))
    return cells


def _service_cell(services: list[ServiceRecord]) -> str:
    return f"{c.LIST_SEPARATOR} ".join(
        c.PART_SEPARATOR.join(
            [s.service_type, s.status, _iso(s.start_date), _iso(s.end_date), s.partner_name]
        )
        for s in sorted(services, key=lambda s: (s.start_date, s.pk))
    )


def _visit_cell(visits: list[FollowUpVisit]) -> str:
    items = []
    for v in sorted(visits, key=lambda v: (v.due_on, v.pk)):
        if v.status == "cancelled":
            continue
        scores = [v.score_economic, v.score_social, v.score_psychosocial]
        parts = [_iso(v.due_on), v.status, _iso(v.visited_on)]
        parts += ["" if s is None else f"{s.normalize():f}" for s in scores]
        items.append(c.PART_SEPARATOR.join(parts).rstrip(c.PART_SEPARATOR))
    return f"{c.LIST_SEPARATOR} ".join(items)


def mission_rows(mission: Mission, include_identifiers: bool, chunk: int = 2000):
    """One dict per case the mission registered, in the template's columns."""
    cases = (
        Case.objects.filter(registering_mission=mission)
        .select_related("person", "destination_mission", "source_mission")
        .order_by("pk")
    )
    ids = list(cases.values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        block = ids[start : start + chunk]
        versions = {}
        for version in ScreeningVersion.objects.filter(case_id__in=block).order_by("number"):
            versions[version.case_id] = version  # the latest version wins
        services = defaultdict(list)
        for service in ServiceRecord.objects.filter(case_id__in=block):
            services[service.case_id].append(service)
        plans = {p.case_id: p for p in ReintegrationPlan.objects.filter(case_id__in=block)}
        visits = defaultdict(list)
        for visit in FollowUpVisit.objects.filter(plan__case_id__in=block):
            visits[visit.plan_id].append(visit)
        for case in cases.filter(pk__in=block):
            person = case.person
            row = {
                "legacy_reference": case.legacy_reference or case.case_number,
                "case_number": case.case_number,
                "sex": person.sex,
                "birth_year": person.birth_year or "",
                "birth_year_estimated": "yes" if person.birth_year_estimated else "no",
                "citizenship": str(person.citizenship or ""),
                "document_type": person.document_type if include_identifiers else "",
                "preferred_language": person.preferred_language,
                "destination_mission": case.destination_mission.code,
                "source_mission": case.source_mission.code if case.source_mission_id else "",
                "country_of_exploitation": str(case.country_of_exploitation or ""),
                "identified_on": _iso(case.identified_on),
                "registered_on": _iso(case.registered_on),
                "status": case.status,
                "closure_reason": case.closure_reason,
                "services": _service_cell(services[case.pk]),
            }
            if include_identifiers:
                row.update(
                    given_names=person.given_names,
                    family_names=person.family_names,
                    other_names=person.other_names,
                    date_of_birth=_iso(person.date_of_birth),
                    place_of_birth=person.place_of_birth,
                    document_number=person.document_number,
                    phone=person.phone,
                    address=person.address,
                )
            row.update(_screening_cells(versions.get(case.pk), include_identifiers))
            plan = plans.get(case.pk)
            if plan is not None:
                row["reintegration_return_date"] = _iso(plan.return_date)
                row["follow_ups"] = _visit_cell(visits[plan.pk])
            yield row


def export_mission(mission: Mission, include_identifiers: bool, file_format: str) -> bytes:
    resource = CaseTransferResource(include_identifiers)
    dataset = resource.export(mission_rows(mission, include_identifiers))
    data = FORMATS[file_format]().export_data(dataset)
    if isinstance(data, str):
        data = "\ufeff" + data  # spreadsheet programs then read UTF-8 names correctly
        data = data.encode("utf-8")
    return data


def template_file(file_format: str) -> bytes:
    """The empty template: headers, an example row, and (XLSX) a sheet of coded values."""
    resource = CaseTransferResource(include_identifiers=True, with_case_number=False)
    example = c.example_row()
    dataset = resource.export([example])
    if file_format == "csv":
        return ("\ufeff" + CSV().export_data(dataset)).encode("utf-8")
    # tablib writes the example; the documentation sheets are added to its workbook.
    workbook = load_workbook(io.BytesIO(XLSX().export_data(dataset)))
    workbook.active.title = "cases"
    codes = workbook.create_sheet("codes")
    codes.append([_("column"), _("code"), _("meaning")])
    for column in c.COLUMNS:
        for code, label in c.coded_values(column):
            codes.append([column.name, code, label])
    about = workbook.create_sheet("columns")
    about.append([_("column"), _("kind"), _("required"), _("identifier"), _("notes")])
    for column in c.COLUMNS:
        about.append(
            [
                column.name,
                column.kind,
                _("yes") if column.required else "",
                _("yes") if column.identifier else "",
                str(column.help),
            ]
        )
    about.append([])
    about.append([str(c.MISSING_HELP)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
