"""The research database is a world apart: no casework table, no relation across."""

import ast
from pathlib import Path

import pytest
from django.db import DatabaseError, connections, router, transaction

from casework.models import Case
from research.models import Release, ResearchRecord

pytestmark = pytest.mark.django_db(databases=["default", "research"])
RESEARCH = Path(__file__).resolve().parent.parent
CASEWORK_APPS = ("casework", "screening", "assistance", "dedupe", "interviews")


def test_models_are_routed_to_their_own_database():
    assert router.db_for_read(ResearchRecord) == "research"
    assert router.db_for_write(Release) == "research"
    assert router.db_for_read(Case) == "default"
    assert router.allow_migrate("research", "casework") is False
    assert router.allow_migrate("default", "research") is False
    assert router.allow_migrate("research", "research") is True


def test_no_relation_crosses_the_databases(release, caseload):
    assert router.allow_relation(release, caseload["first"]) is False


def test_casework_tables_do_not_exist_in_the_research_database():
    with pytest.raises(DatabaseError), transaction.atomic(using="research"):
        list(Case.objects.using("research").all()[:1])
    with pytest.raises(DatabaseError), transaction.atomic(using="default"):
        list(ResearchRecord.objects.using("default").all()[:1])
    research_tables = connections["research"].introspection.table_names()
    default_tables = connections["default"].introspection.table_names()
    assert "casework_person" not in research_tables and "casework_case" not in research_tables
    assert not [t for t in default_tables if t.startswith("research_")]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


def test_only_the_publish_pipeline_reads_casework_models():
    offenders = {}
    for path in RESEARCH.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts or path.name == "publish.py":
            continue
        models = {
            name
            for name in _imports(path)
            if name.split(".")[0] in CASEWORK_APPS and name.endswith(".models")
        }
        if models:
            offenders[str(path.relative_to(RESEARCH))] = models
    assert offenders == {}
    assert "casework.models" in _imports(RESEARCH / "publish.py")
