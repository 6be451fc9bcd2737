//! One walk over a parsed document measuring what the query limits count.
//! Each fragment is measured once per operation and remembered by name,
//! so the walk is linear in the document's size however many times
//! fragments spread one another (a fragment spreading the previous one
//! ten times, nine levels deep, stands for 10⁹ selections but is measured
//! in ten steps). The walk also does the jobs of async-graphql's own
//! checks that expand fragments without remembering them, before they run:
//! it refuses selection sets nested deeper than [`MAX_NESTING`] (fragments
//! counted), fragment cycles and unused fragments, so that what validation
//! later walks is bounded by the selection limit.

use std::collections::{HashMap, HashSet};

use async_graphql::Variables;
use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet, VariableDefinition};
use async_graphql::{Name, Positioned};
use async_graphql_value::{ConstValue, Value};

use super::cost;
use crate::graphql::shape::{FieldType, SchemaShape};

/// How deep selection sets may nest, counting each field with a selection,
/// fragment spread and inline fragment as a level (async-graphql's
/// "recursion depth", whose default this is). Deeper documents are refused
/// before async-graphql's own recursive walks see them.
pub const MAX_NESTING: usize = 32;

/// What a document asks for, as the limits count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    /// The deepest field nesting (a root field is at depth 1).
    pub depth: usize,
    /// Fields, aliases and fragment uses, with fragments expanded, summed over the operations.
    pub selections: u32,
    /// The estimated cost of the costliest operation.
    pub cost: u64,
    /// Whether a query operation selects `__schema` or `__type` at its root.
    pub introspection: bool,
}

/// Why a document is refused before it is measured whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Selection sets nest deeper than [`MAX_NESTING`].
    TooDeep,
    /// More selections than the limit (the walk stopped counting).
    TooManySelections,
    /// A fragment spreads itself, directly or not.
    Cycle(String),
    /// A fragment no operation uses.
    Unused(String),
}

/// What the limits need to know of the document.
pub struct Limits {
    pub max_selections: u32,
    pub default_page_size: u64,
    pub max_page_size: u64,
}

/// Measures every operation of `document`.
pub fn measure(
    document: &ExecutableDocument,
    variables: &Variables,
    shape: &SchemaShape,
    limits: &Limits,
) -> Result<Measure, Refusal> {
    let mut walk = Walk {
        document,
        variables,
        variable_definitions: &[],
        shape,
        limits,
        memo: HashMap::new(),
        used: HashSet::new(),
    };
    let mut measure = Measure {
        depth: 0,
        selections: 0,
        cost: 0,
        introspection: false,
    };
    for (_, operation) in document.operations.iter() {
        let operation = &operation.node;
        // Variable defaults differ between operations, and with them page sizes.
        walk.memo.clear();
        walk.variable_definitions = &operation.variable_definitions;
        let root = shape.root(operation.ty);
        let summary = walk.set(Some(root), &operation.selection_set.node, 0)?;
        measure.selections = measure.selections.saturating_add(summary.selections);
        if measure.selections > limits.max_selections {
            return Err(Refusal::TooManySelections);
        }
        measure.depth = measure.depth.max(summary.depth);
        measure.cost = measure.cost.max(summary.cost(None));
        measure.introspection |=
            summary.introspection && operation.ty == async_graphql::parser::types::OperationType::Query;
    }
    if let Some(name) = document
        .fragments
        .keys()
        .find(|name| !walk.used.contains(name.as_str()))
    {
        return Err(Refusal::Unused(name.to_string()));
    }
    Ok(measure)
}

/// What one selection set selects, fragments expanded.
#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    selections: u32,
    /// Field nesting below and including this set's fields.
    depth: usize,
    /// Selection-set nesting below this set, as [`MAX_NESTING`] counts it.
    nesting: usize,
    /// The cost of what does not repeat per item of an enclosing page.
    fixed: u64,
    /// The cost of one item of the enclosing page (a connection's `nodes`…).
    per_item: u64,
    /// Whether `__schema` or `__type` is selected at this level.
    introspection: bool,
}

impl Summary {
    /// The cost of the set when its enclosing field pages `page` items.
    fn cost(&self, page: Option<u64>) -> u64 {
        self.fixed
            .saturating_add(page.unwrap_or(1).saturating_mul(self.per_item))
    }

    /// Adds a fragment used at this level (spread or inline), one level deeper.
    fn add_fragment(&mut self, inner: &Summary) {
        self.selections = self.selections.saturating_add(inner.selections);
        self.depth = self.depth.max(inner.depth);
        self.nesting = self.nesting.max(inner.nesting + 1);
        self.fixed = self.fixed.saturating_add(inner.fixed);
        self.per_item = self.per_item.saturating_add(inner.per_item);
        self.introspection |= inner.introspection;
    }
}

enum Memo {
    InProgress,
    Done(Summary),
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    variable_definitions: &'a [Positioned<VariableDefinition>],
    shape: &'a SchemaShape,
    limits: &'a Limits,
    memo: HashMap<&'a str, Memo>,
    used: HashSet<&'a str>,
}

impl<'a> Walk<'a> {
    /// The summary of `set`, selected on `type_name`, at nesting `level`.
    fn set(&mut self, type_name: Option<&'a str>, set: &'a SelectionSet, level: usize) -> Result<Summary, Refusal> {
        // Refusing here also bounds this walk's own recursion.
        if level > MAX_NESTING {
            return Err(Refusal::TooDeep);
        }
        let mut summary = Summary::default();
        for item in &set.items {
            summary.selections = summary.selections.saturating_add(1);
            match &item.node {
                Selection::Field(field) => self.field(type_name, &field.node, level, &mut summary)?,
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    let on = fragment
                        .type_condition
                        .as_ref()
                        .map(|condition| condition.node.on.node.as_str())
                        .or(type_name);
                    let inner = self.set(on, &fragment.selection_set.node, level + 1)?;
                    summary.add_fragment(&inner);
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(inner) = self.fragment(&spread.node.fragment_name.node, level)? {
                        summary.add_fragment(&inner);
                    }
                }
            }
            if summary.selections > self.limits.max_selections {
                return Err(Refusal::TooManySelections);
            }
        }
        if level + summary.nesting > MAX_NESTING {
            // A remembered fragment used deeper than where it was measured.
            return Err(Refusal::TooDeep);
        }
        Ok(summary)
    }

    /// The summary of the fragment `name`, spread at nesting `level`;
    /// nothing for an unknown fragment (validation refuses it).
    fn fragment(&mut self, name: &'a Name, level: usize) -> Result<Option<Summary>, Refusal> {
        let Some(definition) = self.document.fragments.get(name) else {
            return Ok(None);
        };
        match self.memo.get(name.as_str()) {
            Some(Memo::Done(summary)) => return Ok(Some(*summary)),
            Some(Memo::InProgress) => return Err(Refusal::Cycle(name.to_string())),
            None => {}
        }
        self.used.insert(name.as_str());
        self.memo.insert(name.as_str(), Memo::InProgress);
        let definition = &definition.node;
        let on = definition.type_condition.node.on.node.as_str();
        let summary = self.set(Some(on), &definition.selection_set.node, level + 1)?;
        self.memo.insert(name.as_str(), Memo::Done(summary));
        Ok(Some(summary))
    }

    /// Adds `field`, selected on `parent` in a set at nesting `level`, to that set's summary.
    fn field(
        &mut self,
        parent: Option<&'a str>,
        field: &'a Field,
        level: usize,
        summary: &mut Summary,
    ) -> Result<(), Refusal> {
        let name = field.name.node.as_str();
        summary.introspection |= matches!(name, "__schema" | "__type");
        let field_type = parent.and_then(|parent| self.shape.field(parent, name));
        let has_selection = !field.selection_set.node.items.is_empty();
        let (child, page) = if has_selection {
            let child_type = field_type.map(|field_type| field_type.named.as_str());
            let child = self.set(child_type, &field.selection_set.node, level + 1)?;
            (child, self.items_per_page(parent, name, field_type, field))
        } else {
            (Summary::default(), None)
        };
        summary.selections = summary.selections.saturating_add(child.selections);
        summary.depth = summary.depth.max(child.depth + 1);
        if has_selection {
            summary.nesting = summary.nesting.max(child.nesting + 1);
        }
        let child_cost = child.cost(page);
        let Some(parent) = parent else {
            summary.fixed = summary.fixed.saturating_add(child_cost.saturating_add(1));
            return Ok(());
        };
        let weight = cost::weight(parent, name);
        if cost::is_item(parent, name) {
            summary.fixed = summary.fixed.saturating_add(weight);
            summary.per_item = summary.per_item.saturating_add(child_cost);
        } else {
            let is_list = field_type.is_some_and(|field_type| field_type.non_null.len() > 1);
            let repeats = if is_list { cost::list_bound(parent, name) } else { 1 };
            summary.fixed = summary
                .fixed
                .saturating_add(weight.saturating_add(repeats.saturating_mul(child_cost)));
        }
        Ok(())
    }

    /// How many items the field's page or sized list holds, when it has one.
    fn items_per_page(
        &self,
        parent: Option<&str>,
        name: &str,
        field_type: Option<&FieldType>,
        field: &Field,
    ) -> Option<u64> {
        if field_type.is_some_and(FieldType::is_connection) {
            // A `first` over the maximum is refused when the field runs.
            let first = self.int_argument(field, "first");
            return Some(first.map_or(self.limits.default_page_size, |first| {
                u64::try_from(first).unwrap_or(0).min(self.limits.max_page_size)
            }));
        }
        let list = cost::sized_list(parent?, name)?;
        let size = self.int_argument(field, list.argument);
        Some(size.map_or(list.default, |size| u64::try_from(size).unwrap_or(0).min(list.maximum)))
    }

    /// An integer argument, given literally or as a variable (with its default).
    fn int_argument(&self, field: &Field, argument: &str) -> Option<i64> {
        match field.get_argument(argument).map(|value| &value.node) {
            Some(Value::Number(number)) => number.as_i64(),
            Some(Value::Variable(variable)) => self
                .variables
                .get(variable)
                .or_else(|| {
                    self.variable_definitions
                        .iter()
                        .find(|definition| definition.node.name.node == *variable)
                        .and_then(|definition| definition.node.default_value.as_ref())
                        .map(|default| &default.node)
                })
                .and_then(|value| match value {
                    ConstValue::Number(number) => number.as_i64(),
                    _ => None,
                }),
            _ => None,
        }
    }
}
