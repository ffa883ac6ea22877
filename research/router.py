"""Keeps the research layer in its own database and casework out of it.

Research models live only in the `research` database and everything else only in the
default one: their tables are never created on the other side, and no relation may
cross. So research code has no casework table to read on its connection, and casework
code has no research table to write on its own.
"""

RESEARCH_DB = "research"
RESEARCH_APP = "research"


def _is_research(model) -> bool:
    return model._meta.app_label == RESEARCH_APP


class ResearchRouter:
    def db_for_read(self, model, **hints):
        return RESEARCH_DB if _is_research(model) else "default"

    def db_for_write(self, model, **hints):
        return RESEARCH_DB if _is_research(model) else "default"

    def allow_relation(self, obj1, obj2, **hints):
        return _is_research(obj1) == _is_research(obj2)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return (db == RESEARCH_DB) == (app_label == RESEARCH_APP)
