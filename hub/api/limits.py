"""Limits that refuse an abusive operation during validation, before any resolver or SQL.

Depth, aliases and tokens use strawberry's limiters. The cost estimate is ours:
every field costs 1, times how many parents it may appear under, where a list
field multiplies by its ``first`` argument or by a fixed estimate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

# How many items a list field is assumed to return when nothing says otherwise.
LIST_ESTIMATES: Mapping[str, int] = {
    "regions": 20,
    "nodes": 20,
    "institutions": 60,
    "topics": 40,
    "history": 10,
    "dispositions": 5,
    "followUps": 10,
    "externalRefs": 5,
    "tags": 5,
    "institutionCodes": 5,
}
PAGINATED = frozenset({"reports"})
ENTITIES = "_entities"
"""A subgraph's entity lookup (``hub/api/subgraph.py``): as many items as its
representations, which may be at most a page."""


def cost_rule(budget: int, max_page: int) -> type[ValidationRule]:
    """A validation rule class refusing operations that would cost more than ``budget``."""

    class CostLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments = {
                d.name.value: d
                for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = self._cost(node.selection_set, 1, frozenset())
            if cost > budget:
                self.report_error(
                    GraphQLError(
                        f"operation cost {cost} exceeds the budget of {budget}; "
                        "ask for fewer items or fields",
                        node,
                        extensions={"code": "COST_LIMIT"},
                    )
                )

        def _cost(
            self, selections: SelectionSetNode | None, times: int, seen: frozenset[str]
        ) -> int:
            if selections is None:
                return 0
            total = 0
            for selection in selections.selections:
                if isinstance(selection, FieldNode):
                    total += times
                    total += self._cost(
                        selection.selection_set, times * self._items(selection), seen
                    )
                elif isinstance(selection, InlineFragmentNode):
                    total += self._cost(selection.selection_set, times, seen)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is not None and name not in seen:  # cycles are refused elsewhere
                        total += self._cost(fragment.selection_set, times, seen | {name})
                if total > budget:
                    return total  # no need to walk the rest of a hopeless operation
            return total

        def _items(self, field: FieldNode) -> int:
            name = field.name.value
            if name in PAGINATED:
                first = next((a for a in field.arguments or () if a.name.value == "first"), None)
                if first is None:
                    return 20
                if isinstance(first.value, IntValueNode):
                    value = int(first.value.value)
                    if value > max_page:
                        self.report_error(
                            GraphQLError(
                                f"first: {value} exceeds the page limit of {max_page}",
                                first,
                                extensions={"code": "BAD_INPUT"},
                            )
                        )
                    return max(1, min(value, max_page))
                return max_page  # a variable: assume the largest page
            if name == ENTITIES:
                return max_page
            return LIST_ESTIMATES.get(name, 1)

    return CostLimit
