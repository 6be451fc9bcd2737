//! What one query may ask for, checked once it is parsed and before it is
//! validated or run: how deep its fields nest, how many selections it
//! makes (alias flooding), and its estimated cost. A query over a limit is
//! refused whole with `extensions.code` LIMIT_EXCEEDED; nothing runs.
//!
//! The cost estimate: every field costs 1 plus what it selects, and the
//! `edges` and `nodes` of a connection cost its page size (`first`, or the
//! default page size when left out, at most the maximum page size) times
//! what they select. So `accounts(first: 500) { nodes { customers(first:
//! 500) { nodes { name } } } }` costs about 250,000 and is refused, while a
//! dashboard's page of 100 accounts with a few figures each costs a few
//! thousand.
//!
//! The check runs as an async-graphql extension, so it also covers
//! graphql-ws. It also turns introspection and field suggestions off
//! unless the configuration turns them on.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{
    ExecutableDocument, Field, OperationType, Selection, SelectionSet, VariableDefinition,
};
use async_graphql::{ErrorExtensionValues, Name, ServerError, ServerResult, Variables};
use async_graphql_value::{ConstValue, Value};

use super::error::code;
use super::shape::{SchemaShape, shape};
use crate::config::ApiConfig;
use crate::db::keyset::DEFAULT_PAGE_SIZE;

/// The query limits of the configuration, as a schema extension.
#[derive(Debug, Clone)]
pub struct QueryLimits {
    max_depth: usize,
    max_complexity: u64,
    max_selections: u32,
    max_page_size: u64,
    introspection: bool,
}

/// Adds the query limits to a schema and, unless the configuration turns
/// it on, turns introspection and field suggestions off.
pub fn apply<Q, M, S>(
    builder: async_graphql::SchemaBuilder<Q, M, S>,
    config: &ApiConfig,
) -> async_graphql::SchemaBuilder<Q, M, S> {
    let builder = builder.extension(QueryLimits::new(config));
    if config.limits.introspection {
        builder
    } else {
        builder.disable_introspection().disable_suggestions()
    }
}

/// Parses a request's query. A query nested deeper than the parser goes
/// (64 selection sets, or the grammar's own stack limit) is refused as
/// LIMIT_EXCEEDED; other syntax errors are GRAPHQL_PARSE_FAILED.
pub fn parse(query: &str) -> Result<ExecutableDocument, ServerError> {
    async_graphql::parser::parse_query(query).map_err(|error| {
        let too_deep = match &error {
            async_graphql::parser::Error::RecursionLimitExceeded => true,
            async_graphql::parser::Error::Syntax { message, .. } => message.ends_with("stack limit reached"),
            _ => false,
        };
        if too_deep {
            // The syntax error would quote the whole (long) line of the query.
            limit_exceeded("the query nests too deeply to be parsed".to_owned())
        } else {
            coded(ServerError::new(error.to_string(), None), code::GRAPHQL_PARSE_FAILED)
        }
    })
}

/// A refusal of the whole request with `extensions.code` `error_code`.
fn coded(mut error: ServerError, error_code: &str) -> ServerError {
    error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set("code", error_code);
    error
}

fn limit_exceeded(message: String) -> ServerError {
    coded(ServerError::new(message, None), code::LIMIT_EXCEEDED)
}

/// What a query asks for, as the limits count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    /// The deepest field nesting (a root field is at depth 1).
    pub depth: usize,
    /// Fields, aliases and fragment uses, with fragments expanded.
    pub selections: u32,
    /// The estimated cost of the costliest operation.
    pub cost: u64,
}

impl QueryLimits {
    pub fn new(config: &ApiConfig) -> Self {
        let limits = &config.limits;
        Self {
            max_depth: usize::from(limits.max_depth),
            max_complexity: limits.max_complexity,
            max_selections: limits.max_fields,
            max_page_size: config.max_page_size,
            introspection: limits.introspection,
        }
    }

    /// Refuses a document over a limit, or one that asks for introspection
    /// where it is off.
    pub fn check(&self, document: &ExecutableDocument, variables: &Variables) -> Result<(), ServerError> {
        if !self.introspection && asks_for_introspection(document) {
            return Err(coded(
                ServerError::new("introspection is not enabled on this server", None),
                code::GRAPHQL_VALIDATION_FAILED,
            ));
        }
        let measure = self.measure(document, variables);
        if measure.selections > self.max_selections {
            return Err(limit_exceeded(format!(
                "the query makes more than {} selections (fields, aliases and fragment uses, fragments expanded)",
                self.max_selections
            )));
        }
        if measure.depth > self.max_depth {
            return Err(limit_exceeded(format!(
                "the query nests fields {} deep; at most {} levels are allowed",
                measure.depth, self.max_depth
            )));
        }
        if measure.cost > self.max_complexity {
            return Err(limit_exceeded(format!(
                "the query's estimated cost is {}; at most {} is allowed (each field costs 1, and the items \
                 of a connection cost its page size `first`, {} when left out, times what they select)",
                measure.cost,
                self.max_complexity,
                self.default_page_size()
            )));
        }
        Ok(())
    }

    /// Measures every operation of a document. Counting stops once the
    /// selections pass the limit, so a fragment bomb costs no more than
    /// the limit to count.
    pub fn measure(&self, document: &ExecutableDocument, variables: &Variables) -> Measure {
        let mut walker = Walker {
            document,
            variables,
            variable_definitions: &[],
            shape: shape(),
            limits: self,
            selections: 0,
            depth: 0,
        };
        let mut cost = 0;
        for (_, operation) in document.operations.iter() {
            walker.variable_definitions = &operation.node.variable_definitions;
            let root = walker.shape.root(operation.node.ty);
            let operation_cost =
                walker.selection_set(Some(root), &operation.node.selection_set.node, 1, None, &mut Vec::new());
            cost = u64::max(cost, operation_cost);
        }
        Measure {
            depth: walker.depth,
            selections: walker.selections,
            cost,
        }
    }

    fn default_page_size(&self) -> u64 {
        DEFAULT_PAGE_SIZE.min(self.max_page_size)
    }
}

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Extension for QueryLimits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await.map_err(|error| {
            // async-graphql refuses selections nested deeper than 32
            // (counting fragments) while parsing.
            if error.message.starts_with("The recursion depth of the query") {
                coded(error, code::LIMIT_EXCEEDED)
            } else {
                error
            }
        })?;
        self.check(&document, variables)?;
        Ok(document)
    }
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    variable_definitions: &'a [async_graphql::Positioned<VariableDefinition>],
    shape: &'static SchemaShape,
    limits: &'a QueryLimits,
    selections: u32,
    depth: usize,
}

impl<'a> Walker<'a> {
    /// The cost of a selection set on `type_name` whose fields are at
    /// `depth`; `page` is the page size when the set belongs to a connection.
    fn selection_set(
        &mut self,
        type_name: Option<&'a str>,
        set: &'a SelectionSet,
        depth: usize,
        page: Option<u64>,
        expanding: &mut Vec<&'a Name>,
    ) -> u64 {
        let mut cost: u64 = 0;
        for item in &set.items {
            self.selections = self.selections.saturating_add(1);
            if self.selections > self.limits.max_selections {
                return cost;
            }
            let item_cost = match &item.node {
                Selection::Field(field) => self.field(type_name, &field.node, depth, page, expanding),
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    let on = fragment
                        .type_condition
                        .as_ref()
                        .map(|condition| condition.node.on.node.as_str())
                        .or(type_name);
                    self.selection_set(on, &fragment.selection_set.node, depth, page, expanding)
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    // A fragment that spreads itself is refused by validation;
                    // here it is counted once.
                    match self.document.fragments.get(name) {
                        Some(fragment) if !expanding.contains(&name) => {
                            expanding.push(name);
                            let on = fragment.node.type_condition.node.on.node.as_str();
                            let cost =
                                self.selection_set(Some(on), &fragment.node.selection_set.node, depth, page, expanding);
                            expanding.pop();
                            cost
                        }
                        _ => 0,
                    }
                }
            };
            cost = cost.saturating_add(item_cost);
        }
        cost
    }

    fn field(
        &mut self,
        type_name: Option<&'a str>,
        field: &'a Field,
        depth: usize,
        page: Option<u64>,
        expanding: &mut Vec<&'a Name>,
    ) -> u64 {
        self.depth = self.depth.max(depth);
        let name = field.name.node.as_str();
        let field_type = type_name.and_then(|type_name| self.shape.field(type_name, name));
        let children = if field.selection_set.node.items.is_empty() {
            0
        } else {
            let child_page = field_type
                .filter(|field_type| field_type.is_connection())
                .map(|_| self.page_size(field));
            let child_type = field_type.map(|field_type| field_type.named.as_str());
            self.selection_set(child_type, &field.selection_set.node, depth + 1, child_page, expanding)
        };
        let repeats = match page {
            Some(page) if matches!(name, "edges" | "nodes") => page,
            _ => 1,
        };
        repeats.saturating_mul(children).saturating_add(1)
    }

    /// The page a connection field asks for: its `first` (a literal or a
    /// variable), or the default page size; never more than the maximum
    /// (a larger `first` is refused when the field runs).
    fn page_size(&self, field: &Field) -> u64 {
        let first = match field.get_argument("first").map(|value| &value.node) {
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
        };
        match first {
            Some(first) => u64::try_from(first).unwrap_or(0).min(self.limits.max_page_size),
            None => self.limits.default_page_size(),
        }
    }
}

/// Whether a query operation selects `__schema` or `__type` at its root.
fn asks_for_introspection(document: &ExecutableDocument) -> bool {
    fn selects(document: &ExecutableDocument, set: &SelectionSet, expanding: &mut Vec<Name>) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => matches!(field.node.name.node.as_str(), "__schema" | "__type"),
            Selection::InlineFragment(fragment) => selects(document, &fragment.node.selection_set.node, expanding),
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                match document.fragments.get(name) {
                    Some(fragment) if !expanding.contains(name) => {
                        expanding.push(name.clone());
                        let found = selects(document, &fragment.node.selection_set.node, expanding);
                        expanding.pop();
                        found
                    }
                    _ => false,
                }
            }
        })
    }
    document
        .operations
        .iter()
        .filter(|(_, operation)| operation.node.ty == OperationType::Query)
        .any(|(_, operation)| selects(document, &operation.node.selection_set.node, &mut Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure(query: &str) -> Measure {
        let limits = QueryLimits::new(&ApiConfig::default());
        let document = async_graphql::parser::parse_query(query).expect("the test query parses");
        limits.measure(&document, &Variables::default())
    }

    #[test]
    fn connections_cost_their_page_size_times_their_items() {
        // nodes: 1 + 10 × (name) = 11; accounts: 1 + 11.
        assert_eq!(measure("{ accounts(first: 10) { nodes { name } } }").cost, 12);
        // totalCount is not multiplied; the default page is 100.
        assert_eq!(measure("{ accounts { totalCount nodes { name } } }").cost, 1 + 1 + 101);
        let nested = measure("{ accounts(first: 500) { nodes { customers(first: 500) { nodes { name } } } } }");
        assert_eq!(nested.cost, 1 + 1 + 500 * (1 + 1 + 500));
        assert_eq!(nested.depth, 5);
        // A page larger than the maximum costs the maximum (it is refused when it runs).
        assert_eq!(
            measure("{ accounts(first: 100000) { nodes { name } } }").cost,
            1 + 1 + 500
        );
    }

    #[test]
    fn variables_and_fragments_count() {
        let limits = QueryLimits::new(&ApiConfig::default());
        let document = async_graphql::parser::parse_query(
            "query($n: Int = 7) { accounts(first: $n) { ...page } } fragment page on AccountConnection { nodes { name owner } }",
        )
        .expect("parses");
        let measure = limits.measure(&document, &Variables::default());
        assert_eq!(measure.cost, 1 + 1 + 7 * 2);
        assert_eq!(measure.selections, 5);
        let variables = Variables::from_json(serde_json::json!({ "n": 3 }));
        assert_eq!(limits.measure(&document, &variables).cost, 1 + 1 + 3 * 2);
    }

    #[test]
    fn a_fragment_bomb_is_counted_only_up_to_the_limit() {
        let mut query = String::from("{ ...f0 } fragment f0 on Query { __typename }");
        for level in 1..=30 {
            query.push_str(&format!(
                " fragment f{level} on Query {{ ...f{} ...f{} }}",
                level - 1,
                level - 1
            ));
        }
        query = query.replacen("{ ...f0 }", "{ ...f30 }", 1);
        let limits = QueryLimits::new(&ApiConfig::default());
        let document = async_graphql::parser::parse_query(&query).expect("parses");
        let measure = limits.measure(&document, &Variables::default());
        assert!(measure.selections > 2_000 && measure.selections < 3_000, "{measure:?}");
    }
}
