"""PostgreSQL's INSERT … ON CONFLICT, compiled once per shape instead of once per call.

SQLAlchemy 2.0 leaves ``sqlalchemy.dialects.postgresql.insert`` out of its compiled
cache (sqlalchemy/sqlalchemy#10445): every inbox claim and read-model upsert was compiled
again, the largest single cost of a consumer. ``insert`` here is the same construct
with a cache key: the ON CONFLICT clause names what it renders, and the values it sets
are bound parameters, never literals compiled into the cached SQL.

    from frontdesk.kit.upsert import insert
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import dml
from sqlalchemy.sql import coercions, elements
from sqlalchemy.sql.base import _generative
from sqlalchemy.sql.visitors import InternalTraversal

_TARGET = [
    ("constraint_target", InternalTraversal.dp_string),
    ("inferred_target_elements", InternalTraversal.dp_multi_list),
    ("inferred_target_whereclause", InternalTraversal.dp_clauseelement),
]


class _DoNothing(dml.OnConflictDoNothing):
    _traverse_internals = _TARGET


class _DoUpdate(dml.OnConflictDoUpdate):
    _traverse_internals = [
        *_TARGET,
        ("update_values_to_set", InternalTraversal.dp_dml_ordered_values),
        ("update_whereclause", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, table: Table, **arguments: Any) -> None:
        super().__init__(**arguments)
        # A plain value becomes a parameter typed like its column (what the compiler
        # would do later), so the cached SQL never holds one call's value.
        self.update_values_to_set = [
            (key, _bound(table, key, value)) for key, value in self.update_values_to_set
        ]


def _bound(table: Table, key: Any, value: Any) -> Any:
    if not coercions._is_literal(value):
        return value
    column = table.c[key] if isinstance(key, str) else key
    return elements.BindParameter(None, value, type_=column.type)


class Insert(dml.Insert):
    inherit_cache = True

    # The ON CONFLICT clause swapped for its cacheable twin, everything else as is.
    @_generative
    def on_conflict_do_nothing(
        self, constraint: Any = None, index_elements: Any = None, index_where: Any = None
    ) -> Insert:
        self._on_conflict_free()
        self._post_values_clause = _DoNothing(constraint, index_elements, index_where)
        return self

    @_generative
    def on_conflict_do_update(
        self,
        constraint: Any = None,
        index_elements: Any = None,
        index_where: Any = None,
        set_: Any = None,
        where: Any = None,
    ) -> Insert:
        self._on_conflict_free()
        self._post_values_clause = _DoUpdate(
            self.table,  # type: ignore[arg-type]
            constraint=constraint,
            index_elements=index_elements,
            index_where=index_where,
            set_=set_,
            where=where,
        )
        return self

    def _on_conflict_free(self) -> None:
        if self._post_values_clause is not None:
            raise ValueError("This Insert construct already has an ON CONFLICT clause")


def insert(table: Any) -> Insert:
    """``sqlalchemy.dialects.postgresql.insert``, cached (see the module's docstring)."""
    return Insert(table)
