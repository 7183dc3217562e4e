"""What a GraphQL document asks of the server, measured before graphql-core validates it.

One walk over the document, fragments expanded and fields merged by response key as execution
merges them, bounded by ``max_query_cost`` visited fields whatever the document's shape:

* **Repeated fields.** The same response key asked for more than ``max_repeated_fields`` times
  in one (merged) selection is refused. graphql-core's OverlappingFieldsCanBeMergedRule compares
  every pair of fields with the same key, and of fragments spread into one selection, so
  ``{ viewer { id } viewer { id } ... }`` 400 times took a second to validate (issue 16, H1);
  with at most five of each and a bounded number of fields overall, validation stays in
  milliseconds.
* **Cost.** Every field costs 1 (a mutation's or subscription's root field 10, the ranked and
  searched fields in ``FIELD_WEIGHTS`` more), times the sizes of the lists above it: a list's
  size is its ``first``/``last``/``limit`` argument (the literal, the variable's value, or the
  argument's default), a connection's size applies to its ``edges``/``nodes``, and a list
  without a size argument counts as ``DEFAULT_LIST_SIZE``. Sizes are capped at the page cap
  (``MAX_PAGE_SIZE``): above it the field refuses the argument itself, with a better message.
  Aliases count as the fields they are; ``__typename`` is free; introspection does not multiply.

The walk never raises on a document that validation will refuse (unknown fields, fragment
cycles, wrong argument types): it costs what it can and leaves the errors to validation, but
for a spread of an unknown fragment, which it reports (see ``Analysis.unknown_fragment``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.pyutils import Undefined

from core.errors import DomainError, ErrorCode

from .pagination import MAX_PAGE_SIZE

DEFAULT_LIST_SIZE = 5  # a list without a size argument (children, a citizen's CVs ...)
ROOT_WRITE_WEIGHT = 10  # each root field of a mutation or subscription
SIZE_ARGUMENTS = ("first", "last", "limit")
# Fields whose resolvers rank or search (the matching engine, the candidate ranking).
FIELD_WEIGHTS: dict[str, int] = {
    "Query.recommendedJobs": 10,
    "Query.swipeDeck": 10,
    "Query.normalizeTitle": 10,
    "Query.occupations": 5,
    "Query.meetingRequests": 5,
    "Query.exportMyData": 10,
}
# Distinct fragments spread into one merged selection: validation compares them pairwise.
MAX_FRAGMENTS_PER_SELECTION = 10
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


class QueryTooComplex(DomainError):
    code = ErrorCode.QUERY_TOO_COMPLEX


@dataclass(frozen=True)
class Limits:
    max_repeated_fields: int
    max_query_cost: int


@dataclass
class Analysis:
    cost: int  # the whole document's (every operation in it); at most max_query_cost + 1
    fields: int  # fields visited, fragments expanded
    refusal: QueryTooComplex | None = None
    # A spread of a fragment the document does not define (Strawberry's depth limiter fails on
    # one with a KeyError, before graphql-core's rule can name it).
    unknown_fragment: FragmentSpreadNode | None = None


def too_costly(cost: int, max_cost: int) -> QueryTooComplex:
    return QueryTooComplex(
        f"Forespørgslen er for stor: den koster mere end {max_cost} point "
        "(felter gange listernes længde). Bed om færre felter eller kortere sider (first).",
        f"The query is too large: it costs more than {max_cost} points (fields times list "
        "sizes). Ask for fewer fields or shorter pages (first).",
        extensions={"reason": "COST", "cost": cost, "maxCost": max_cost},
    )


def _too_many_fields(max_fields: int) -> QueryTooComplex:
    return QueryTooComplex(
        f"Forespørgslen er for stor: mere end {max_fields} felter, når fragmenterne er foldet ud.",
        f"The query is too large: more than {max_fields} fields once its fragments are expanded.",
        extensions={"reason": "FIELDS", "maxFields": max_fields},
    )


def _repeated(key: str, limit: int) -> QueryTooComplex:
    return QueryTooComplex(
        f"Feltet '{key[:100]}' er bedt om mere end {limit} gange i samme udvalg.",
        f"The field '{key[:100]}' is asked for more than {limit} times in one selection.",
        extensions={"reason": "REPEATED_FIELD", "field": key[:100], "maxRepeated": limit},
    )


def _too_many_fragments(limit: int) -> QueryTooComplex:
    return QueryTooComplex(
        f"Mere end {limit} forskellige fragmenter er spredt i samme udvalg.",
        f"More than {limit} different fragments are spread into one selection.",
        extensions={"reason": "FRAGMENTS", "maxFragments": limit},
    )


class _Refused(Exception):
    def __init__(self, refusal: QueryTooComplex) -> None:
        self.refusal = refusal


def _is_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        limits: Limits,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.limits = limits
        self.cost = 0
        self.fields = 0
        self.variable_defaults: dict[str, Any] = {}
        self.unknown_fragment: FragmentSpreadNode | None = None

    # --- sizes --------------------------------------------------------------------------------
    def _int_value(self, node: Any) -> int | None:
        if isinstance(node, IntValueNode):
            try:
                return int(node.value)
            except ValueError:  # pragma: no cover - the lexer only makes digits
                return None
        if isinstance(node, VariableNode):
            name = node.name.value
            value = self.variables.get(name, Undefined)
            if value is Undefined:
                default = self.variable_defaults.get(name)
                return self._int_value(default) if default is not None else None
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return None

    def _size(self, node: FieldNode, definition: GraphQLField | None) -> int | None:
        """The list size a field asks for, from its size argument, or None when it has none."""
        given = {a.name.value: a.value for a in node.arguments or ()}
        for name in SIZE_ARGUMENTS:
            declared = definition is not None and name in definition.args
            if name not in given and not declared:
                continue
            size = self._int_value(given[name]) if name in given else None
            if size is None:  # not given, a variable without a value, not a number: the default
                default = definition.args[name].default_value if declared else None  # type: ignore[union-attr]
                if isinstance(default, int) and not isinstance(default, bool):
                    size = default
                elif name in given:
                    size = MAX_PAGE_SIZE
            if size is not None:
                return max(0, min(size, MAX_PAGE_SIZE))
        return None

    # --- the walk -------------------------------------------------------------------------------
    def _charge(self, points: int) -> None:
        self.cost += points
        if self.cost > self.limits.max_query_cost:
            self.cost = self.limits.max_query_cost + 1
            raise _Refused(too_costly(self.cost, self.limits.max_query_cost))

    def operation(self, op: OperationDefinitionNode) -> None:
        self.variable_defaults = {
            d.variable.name.value: d.default_value
            for d in op.variable_definitions or ()
            if d.default_value is not None
        }
        root = self.schema.get_root_type(op.operation)
        root_weight = 1 if op.operation is OperationType.QUERY else ROOT_WRITE_WEIGHT
        # Work items: the type the selections are on, the selection sets merged into one
        # (fields of the same key under one parent are merged, as execution does), how many
        # times this selection is resolved, a size a connection passes to its edges/nodes,
        # whether it is under introspection, and the weight of a root field.
        todo: list[tuple[Any, list[SelectionSetNode], int, int | None, bool, int]] = [
            (root, [op.selection_set], 1, None, False, root_weight)
        ]
        max_fields = self.limits.max_query_cost
        max_repeated = self.limits.max_repeated_fields
        while todo:
            parent, selection_sets, times, pending, introspection, weight = todo.pop()
            groups: dict[str, list[tuple[FieldNode, Any]]] = {}
            spread: set[str] = set()
            stack: list[tuple[SelectionSetNode, Any, frozenset[str]]] = [
                (s, parent, frozenset()) for s in selection_sets
            ]
            while stack:
                selection_set, owner, expanding = stack.pop()
                for selection in selection_set.selections:
                    if isinstance(selection, FieldNode):
                        key = (selection.alias or selection.name).value
                        entries = groups.setdefault(key, [])
                        entries.append((selection, owner))
                        self.fields += 1
                        if len(entries) > max_repeated:
                            raise _Refused(_repeated(key, max_repeated))
                        if self.fields > max_fields:
                            raise _Refused(_too_many_fields(max_fields))
                    elif isinstance(selection, InlineFragmentNode):
                        condition = selection.type_condition
                        on = self.schema.get_type(condition.name.value) if condition else owner
                        stack.append((selection.selection_set, on, expanding))
                    elif isinstance(selection, FragmentSpreadNode):
                        name = selection.name.value
                        fragment = self.fragments.get(name)
                        if fragment is None:
                            self.unknown_fragment = self.unknown_fragment or selection
                            continue
                        if name in expanding:
                            continue  # a cycle: validation says so
                        spread.add(name)
                        if len(spread) > MAX_FRAGMENTS_PER_SELECTION:
                            raise _Refused(_too_many_fragments(MAX_FRAGMENTS_PER_SELECTION))
                        on = self.schema.get_type(fragment.type_condition.name.value)
                        stack.append((fragment.selection_set, on, expanding | {name}))
            for entries in groups.values():
                node, owner = entries[0]
                name = node.name.value
                if name == "__typename":
                    continue
                definition = None
                if isinstance(owner, GraphQLObjectType | GraphQLInterfaceType):
                    definition = owner.fields.get(name)
                field_weight = weight
                if definition is not None and not introspection:
                    field_weight = max(weight, FIELD_WEIGHTS.get(f"{owner.name}.{name}", 1))
                self._charge(times * field_weight)
                children = [n.selection_set for n, _ in entries if n.selection_set]
                if not children:
                    continue
                child_type = get_named_type(definition.type) if definition else None
                inner = introspection or name in INTROSPECTION_ROOTS
                size = None if inner else self._size(node, definition)
                child_times, child_pending = times, size
                if definition is not None and _is_list(definition.type) and not inner:
                    if size is None:
                        size = pending if pending is not None else DEFAULT_LIST_SIZE
                    child_times, child_pending = times * size, None
                child_times = min(child_times, self.limits.max_query_cost + 1)
                todo.append((child_type, children, child_times, child_pending, inner, 1))


def analyse(
    document: DocumentNode,
    schema: GraphQLSchema,
    variables: dict[str, Any] | None,
    limits: Limits,
) -> Analysis:
    """The document's cost and size, or why it is refused (see the module's docstring)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walk = _Walk(schema, fragments, variables if isinstance(variables, dict) else {}, limits)
    try:
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                walk.operation(definition)
    except _Refused as refused:
        return Analysis(cost=walk.cost, fields=walk.fields, refusal=refused.refusal)
    return Analysis(cost=walk.cost, fields=walk.fields, unknown_fragment=walk.unknown_fragment)
