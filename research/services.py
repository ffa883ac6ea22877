"""Writes of the research layer: disclosure policy, releases, extract requests, reports
and the donors' programmes they may be scoped to.

Every write is decided here, checked against the access policy, and audited in the
casework audit log (which records who did what, never a person's data).
"""

import contextlib
import hashlib
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from casework.access import Perm, has_perm
from casework.audit import Action, audit_record
from research import codebook as cb
from research import extracts, tables
from research.models import (
    MIN_K,
    DisclosurePolicy,
    ExtractRequest,
    Programme,
    Release,
    ResearchRecord,
)
from research.publish import publish, row_digest
from research.router import RESEARCH_DB
from research.selectors import current_policy, portal_definitions


def _require(user, perm: Perm) -> None:
    if not has_perm(user, perm):
        raise PermissionDenied


def policy_set(
    *, actor, k: int, threshold: int, max_suppressed_share: float = 0.05, note: str = ""
) -> DisclosurePolicy:
    _require(actor, Perm.RESEARCH_MANAGE)
    if k < MIN_K:
        raise ValidationError({"k": f"k is never below {MIN_K}."})
    if threshold < 2:
        raise ValidationError({"threshold": "The threshold is at least 2."})
    if not 0 <= max_suppressed_share <= 0.5:
        raise ValidationError({"max_suppressed_share": "Between 0 and 0.5."})
    policy = DisclosurePolicy.objects.create(
        k=k,
        threshold=threshold,
        max_suppressed_share=max_suppressed_share,
        set_by_id=actor.pk,
        set_by_name=actor.get_username(),
        note=note,
    )
    audit_record(
        action=Action.DISCLOSURE_POLICY_SET, actor=actor, obj=policy, detail=policy.as_dict()
    )
    return policy


def release_publish(
    *,
    actor,
    as_of: date,
    corrects: Release | None = None,
    change_note: str = "",
    provisional: bool = True,
    progress=lambda message: None,
) -> Release:
    """A draft release of every consenting case registered up to the date."""
    _require(actor, Perm.RESEARCH_MANAGE)
    if as_of > timezone.localdate():
        raise ValidationError({"as_of": "The as-of date cannot lie in the future."})
    if corrects is not None and not change_note.strip():
        raise ValidationError({"change_note": "Say what the correction changes."})
    return publish(
        actor=actor,
        as_of=as_of,
        policy=current_policy().as_dict(),
        corrects=corrects,
        change_note=change_note.strip(),
        provisional=provisional,
        progress=progress,
    )


def release_checksum(release: Release) -> str:
    """Recompute the checksum from the stored records, in the order they were written."""
    hasher = hashlib.sha256()
    rows = (
        ResearchRecord.objects.filter(release=release)
        .order_by("id")
        .values_list("release_id", "person", *cb.NAMES)
    )
    for row in rows.iterator(chunk_size=20_000):
        row_digest(hasher, row)
    return hasher.hexdigest()


def release_approve(*, actor, release: Release) -> Release:
    """Approve a draft: from now on it is immutable (the database refuses changes)."""
    _require(actor, Perm.RESEARCH_MANAGE)
    with transaction.atomic(using=RESEARCH_DB):
        release = Release.objects.select_for_update().get(pk=release.pk)
        if release.is_approved:
            raise ValidationError("This release is already approved.")
        if release_checksum(release) != release.checksum:
            raise ValidationError(
                "The records no longer match the checksum written at publication: "
                "publish the release again."
            )
        release.status = Release.Status.APPROVED
        release.approved_by_id = actor.pk
        release.approved_by_name = actor.get_username()
        release.approved_at = timezone.now()
        release.save()
    # The portal's counts are the release's first tables: every later table is protected
    # together with them.
    for definition in portal_definitions(current_policy().threshold):
        # A table not releasable beside those already out is left out; the portal says so.
        with contextlib.suppress(tables.TableError):
            tables.publish_table(release, definition)
    audit_record(
        action=Action.RELEASE_APPROVED,
        actor=actor,
        obj=release,
        detail={"number": release.number, "checksum": release.checksum},
    )
    return release


def release_discard(*, actor, release: Release) -> None:
    """Delete a draft that should not be approved (an approved release cannot be)."""
    _require(actor, Perm.RESEARCH_MANAGE)
    if release.is_approved:
        raise ValidationError("An approved release is never deleted; publish a correction.")
    release.delete()


def extract_request(*, actor, release: Release, variables, filters, purpose: str) -> ExtractRequest:
    _require(actor, Perm.EXTRACT_REQUEST)
    if not release.is_approved:
        raise ValidationError("Extracts are made from approved releases only.")
    if not purpose.strip():
        raise ValidationError({"purpose": "State the purpose of the research."})
    try:
        names = extracts.parse_variables(variables)
        conditions = extracts.parse_filters(filters)
    except extracts.ExtractError as error:
        raise ValidationError(str(error)) from error
    if not ResearchRecord.objects.filter(release=release, **conditions).exists():
        raise ValidationError(
            "No record of this release matches the filters: the extract would be empty. "
            "Widen the filters."
        )
    request = ExtractRequest.objects.create(
        release=release,
        variables=names,
        filters=conditions,
        purpose=purpose.strip(),
        k=current_policy().k,
        requested_by_id=actor.pk,
        requested_by_name=actor.get_username(),
    )
    audit_record(
        action=Action.EXTRACT_REQUESTED,
        actor=actor,
        obj=request,
        detail={"release": release.number, "variables": len(names)},
    )
    return request


def extract_decide(
    *, actor, request: ExtractRequest, approve: bool, note: str = "", k: int | None = None
) -> ExtractRequest:
    """The DPO's decision; an approval makes the k-anonymous extract and stores it."""
    _require(actor, Perm.RESEARCH_MANAGE)
    if request.status != ExtractRequest.Status.PENDING:
        raise ValidationError("This request has already been decided.")
    if not approve and not note.strip():
        raise ValidationError({"note": "Say why the request is rejected."})
    policy = current_policy()
    k = request.k if k is None else k
    if k < MIN_K:
        raise ValidationError({"k": f"k is never below {MIN_K}."})
    if approve:
        try:
            extract = extracts.build(
                request.release,
                request.variables,
                request.filters,
                k=k,
                max_suppressed_share=policy.max_suppressed_share,
            )
        except extracts.ExtractError as error:
            raise ValidationError(str(error)) from error
        request.data = extracts.pack(extract.frame)
        request.report = extract.report
        request.rows = len(extract.frame)
    request.k = k
    request.status = ExtractRequest.Status.APPROVED if approve else ExtractRequest.Status.REJECTED
    request.decided_by_id = actor.pk
    request.decided_by_name = actor.get_username()
    request.decided_at = timezone.now()
    request.decision_note = note.strip()
    request.save()
    audit_record(
        action=Action.EXTRACT_APPROVED if approve else Action.EXTRACT_REJECTED,
        actor=actor,
        obj=request,
        detail={"k": k, "rows": request.rows},
    )
    return request


def extract_download(*, actor, request: ExtractRequest, file_format: str) -> bytes:
    """The approved extract as a zip (data, codebook, release notes); audited."""
    if request.status != ExtractRequest.Status.APPROVED:
        raise ValidationError("Only an approved extract can be downloaded.")
    if file_format not in extracts.FORMATS:
        raise ValidationError(f"Choose one of {', '.join(extracts.FORMATS)}.")
    extract = extracts.unpack(request.data, request.report)
    content = extracts.bundle(
        extract,
        request.release,
        file_format,
        f"extract-{request.pk}-release-{request.release.number}",
    )
    audit_record(
        action=Action.EXTRACT_DOWNLOADED,
        actor=actor,
        obj=request,
        detail={"format": file_format, "rows": request.rows},
    )
    return content


def programme_countries(codes) -> list[str]:
    """The codes as the codebook's ISO 3166-1 alpha-2 countries, sorted, once each."""
    chosen = sorted({str(code).strip().upper() for code in codes if str(code).strip()})
    if not chosen:
        raise ValidationError({"countries": "Name at least one country."})
    unknown = [code for code in chosen if code not in cb.COUNTRY_CODES]
    if unknown:
        raise ValidationError(
            {
                "countries": f"Unknown country code(s): {', '.join(unknown)}. "
                "Use ISO 3166-1 alpha-2 codes, for example UA or MD."
            }
        )
    return chosen


def programme_create(*, actor, name: str, countries, donor: str = "") -> Programme:
    """A donor's programme: the countries of identification a report may be scoped to."""
    _require(actor, Perm.RESEARCH_MANAGE)
    name, donor = " ".join(name.split()), " ".join(donor.split())
    if not name:
        raise ValidationError({"name": "Give the programme a name."})
    chosen = programme_countries(countries)
    duplicate = ValidationError({"name": f"A programme named {name!r} already exists."})
    if Programme.objects.filter(name__iexact=name).exists():
        raise duplicate
    try:
        with transaction.atomic(using=RESEARCH_DB):
            programme = Programme.objects.create(
                name=name,
                donor=donor,
                countries=chosen,
                created_by_id=actor.pk,
                created_by_name=actor.get_username(),
            )
    except IntegrityError as error:  # the same name, created meanwhile
        raise duplicate from error
    audit_record(
        action=Action.PROGRAMME_CREATED,
        actor=actor,
        obj=programme,
        detail={"name": name, "donor": donor, "countries": chosen},
    )
    return programme


def report_create(
    *,
    actor,
    title,
    release,
    year_from,
    year_to,
    region,
    tables,
    method,
    introduction="",
    programme: Programme | None = None,
):
    """A draft donor report: its tables are made and protected when it is published.

    Its scope is the whole organisation, an M49 region, or a programme; a programme's
    countries are copied into the scope, so that the report keeps its tables as defined.
    """
    from research import regions
    from research.models import Report

    _require(actor, Perm.RESEARCH_MANAGE)
    if not release.is_approved:
        raise ValidationError("Reports are made from approved releases only.")
    if year_from > year_to:
        raise ValidationError("The period ends before it starts.")
    if region and programme is not None:
        raise ValidationError("Scope a report to a region or to a programme, not both.")
    if programme is not None:
        scope = {"programme": programme.pk, "countries": list(programme.countries)}
        scope_label = programme.scope_label
    elif region:
        scope, scope_label = {"region": region}, regions.REGIONS[region]
    else:
        scope, scope_label = {}, "Whole organisation"
    threshold = current_policy().threshold
    return Report.objects.create(
        title=title.strip(),
        release=release,
        year_from=year_from,
        year_to=year_to,
        scope=scope,
        scope_label=scope_label,
        definitions=[{"table": key, "method": method, "threshold": threshold} for key in tables],
        introduction=introduction.strip(),
        created_by_name=actor.get_username(),
    )


def report_publish(*, actor, report):
    from research import reports

    _require(actor, Perm.RESEARCH_MANAGE)
    if report.status == report.Status.PUBLISHED:
        raise ValidationError("This report is already published.")
    try:
        with transaction.atomic(using=RESEARCH_DB):
            reports.publish_report(report, actor)
    except tables.TableError as error:
        raise ValidationError(str(error)) from error
    audit_record(
        action=Action.REPORT_PUBLISHED,
        actor=actor,
        obj=report,
        detail={"release": report.release.number, "tables": len(report.definitions)},
    )
    return report
