"""Statistical disclosure control of frequency tables (plain Python, no Django).

``build_table`` counts microdata into a table with margins and hierarchies (table.py);
``protect`` applies primary and secondary cell suppression and audits the result
(suppress.py); ``audit`` solves the attacker's linear programs (audit.py); ``round_table``
is the 10-5 rounding alternative; ``to_csv``/``to_json`` write the long and JSON forms.
"""

from research.sdc.audit import PRIMARY, PUBLISHED, SECONDARY, AuditResult, audit
from research.sdc.suppress import (
    ROUNDING,
    SUPPRESSION,
    Protection,
    cell_costs,
    group_disclosure_cells,
    long_frame,
    primary_cells,
    protect,
    protection_levels,
    round_table,
    subtables,
    to_csv,
    to_dict,
    to_json,
)
from research.sdc.table import (
    MISSING,
    TOTAL,
    Dimension,
    Table,
    build_table,
    label_of,
    make_dimension,
    relation_matrix,
    table_from_counts,
)

__all__ = [
    "MISSING",
    "PRIMARY",
    "PUBLISHED",
    "ROUNDING",
    "SECONDARY",
    "SUPPRESSION",
    "TOTAL",
    "AuditResult",
    "Dimension",
    "Protection",
    "Table",
    "audit",
    "build_table",
    "cell_costs",
    "group_disclosure_cells",
    "label_of",
    "long_frame",
    "make_dimension",
    "primary_cells",
    "protect",
    "protection_levels",
    "relation_matrix",
    "round_table",
    "subtables",
    "table_from_counts",
    "to_csv",
    "to_dict",
    "to_json",
]
