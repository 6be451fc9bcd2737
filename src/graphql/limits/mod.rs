//! What one query may ask for, checked before anything in async-graphql
//! expands its fragments: how deep its selection sets and fields nest,
//! how many selections it makes (alias flooding, fragment fan-out) and its
//! estimated cost ([`cost`] has the table). A query over a limit is
//! refused whole with `extensions.code` LIMIT_EXCEEDED; nothing runs.
//!
//! **Order.** async-graphql's `Schema::execute` runs the extensions'
//! `prepare_request` first, then parses the query and walks it for its
//! recursion depth (expanding every fragment spread without remembering
//! it), then validates. The check runs in `prepare_request`, so that walk
//! and validation only ever see documents [`walk`] has bounded: [`walk`]
//! measures each fragment once, and does the recursion-depth job itself
//! ([`walk::MAX_NESTING`]).
//!
//! The check runs as an async-graphql extension, so it also covers
//! graphql-ws. It also turns introspection and field suggestions off
//! unless the configuration turns them on.

pub mod cost;
pub mod strings;
pub mod walk;

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ErrorExtensionValues, Request, ServerError, ServerResult, Variables};

use super::error::code;
use super::shape::shape;
use crate::config::ApiConfig;
use crate::db::keyset::DEFAULT_PAGE_SIZE;
pub use walk::{MAX_NESTING, Measure, Refusal};

/// The query limits of the configuration, as a schema extension.
#[derive(Debug, Clone)]
pub struct QueryLimits {
    max_depth: usize,
    max_complexity: u64,
    max_selections: u32,
    max_page_size: u64,
    introspection: bool,
}

/// Sets the schema's own limits around the query limits (which run in
/// [`crate::graphql::extensions::Hooks`]) and, unless the configuration
/// turns it on, turns introspection and field suggestions off.
pub fn apply<Q, M, S>(
    builder: async_graphql::SchemaBuilder<Q, M, S>,
    config: &ApiConfig,
) -> async_graphql::SchemaBuilder<Q, M, S> {
    // Never reached first: the check refuses deeper documents before it.
    let builder = builder.limit_recursive_depth(MAX_NESTING);
    if config.limits.introspection {
        builder
    } else {
        builder.disable_introspection().disable_suggestions()
    }
}

/// Parses a request's query. A query nested deeper than the parser goes
/// (64 selection sets, or the grammar's own stack limit) is refused as
/// LIMIT_EXCEEDED; other syntax errors are GRAPHQL_PARSE_FAILED with a
/// one-line message and the error's `locations`. The parser also refuses
/// documents that are well-formed but break a validation rule (an
/// anonymous operation beside another, two operations or fragments of one
/// name): those are GRAPHQL_VALIDATION_FAILED, as the specification files
/// them.
pub fn parse(query: &str) -> Result<ExecutableDocument, ServerError> {
    use async_graphql::parser::Error;
    async_graphql::parser::parse_query(query).map_err(|error| match error {
        Error::RecursionLimitExceeded => too_deep(),
        Error::Syntax { message, .. } if message.ends_with("stack limit reached") => too_deep(),
        Error::Syntax { message, start, .. } => {
            let mut refusal = ServerError::new(
                format!(
                    "syntax error at line {}, column {}: {}",
                    start.line,
                    start.column,
                    expected(&message)
                ),
                Some(start),
            );
            refusal.locations = vec![start];
            coded(refusal, code::GRAPHQL_PARSE_FAILED)
        }
        Error::MultipleOperations { anonymous, operation } => validation(
            "an anonymous operation must be the only operation of its document (Lone Anonymous Operation)",
            vec![anonymous, operation],
        ),
        Error::OperationDuplicated {
            operation,
            first,
            second,
        } => validation(
            &format!("there are two operations named {operation} (Operation Name Uniqueness)"),
            vec![first, second],
        ),
        Error::FragmentDuplicated {
            fragment,
            first,
            second,
        } => validation(
            &format!("there are two fragments named {fragment} (Fragment Name Uniqueness)"),
            vec![first, second],
        ),
        other => {
            let mut refusal = ServerError::from(other);
            refusal.message = refusal.message.lines().next().unwrap_or_default().to_owned();
            coded(refusal, code::GRAPHQL_PARSE_FAILED)
        }
    })
}

/// What the parser expected, from its multi-line message (which quotes
/// the query's line and ends with `= expected …`).
fn expected(message: &str) -> &str {
    message
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("= "))
        .unwrap_or_else(|| message.lines().next().unwrap_or_default().trim())
}

fn too_deep() -> ServerError {
    // The syntax error would quote the whole (long) line of the query.
    limit_exceeded("the query nests too deeply to be parsed".to_owned())
}

fn validation(message: &str, locations: Vec<async_graphql::Pos>) -> ServerError {
    let mut refusal = ServerError::new(message, None);
    refusal.locations = locations;
    coded(refusal, code::GRAPHQL_VALIDATION_FAILED)
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
        strings::check(document, variables)?;
        let measure = self
            .measure(document, variables)
            .map_err(|refusal| self.refusal(refusal))?;
        if !self.introspection && measure.introspection {
            return Err(coded(
                ServerError::new("introspection is not enabled on this server", None),
                code::GRAPHQL_VALIDATION_FAILED,
            ));
        }
        if measure.depth > self.max_depth {
            return Err(limit_exceeded(format!(
                "the query nests fields {} deep; at most {} levels are allowed",
                measure.depth, self.max_depth
            )));
        }
        if measure.cost > self.max_complexity {
            return Err(limit_exceeded(format!(
                "the query's estimated cost is {}; at most {} is allowed (each field costs 1 and insights \
                 what they scan; the items of a connection cost its page size `first`, {} when left out, \
                 and those of other lists their length, times what they select)",
                measure.cost,
                self.max_complexity,
                self.default_page_size()
            )));
        }
        Ok(())
    }

    /// Measures every operation of a document, each fragment once.
    pub fn measure(&self, document: &ExecutableDocument, variables: &Variables) -> Result<Measure, Refusal> {
        let limits = walk::Limits {
            max_selections: self.max_selections,
            default_page_size: self.default_page_size(),
            max_page_size: self.max_page_size,
        };
        walk::measure(document, variables, shape(), &limits)
    }

    fn refusal(&self, refusal: Refusal) -> ServerError {
        match refusal {
            Refusal::TooDeep => limit_exceeded(format!(
                "the query nests selections (fields, fragment spreads and inline fragments) more than \
                 {MAX_NESTING} deep"
            )),
            Refusal::TooManySelections => limit_exceeded(format!(
                "the query makes more than {} selections (fields, aliases and fragment uses, fragments expanded)",
                self.max_selections
            )),
            Refusal::Cycle(name) => coded(
                ServerError::new(format!("Cannot spread fragment \"{name}\" within itself"), None),
                code::GRAPHQL_VALIDATION_FAILED,
            ),
            Refusal::Unused(name) => coded(
                ServerError::new(format!("Fragment \"{name}\" is never used"), None),
                code::GRAPHQL_VALIDATION_FAILED,
            ),
        }
    }

    fn default_page_size(&self) -> u64 {
        DEFAULT_PAGE_SIZE.min(self.max_page_size)
    }
}

impl QueryLimits {
    /// Checks the request's document against the limits, before anything
    /// in async-graphql walks it (the hooks' `prepare_request`).
    pub fn check_request(&self, request: &mut Request) -> ServerResult<()> {
        // HTTP hands the document over parsed; graphql-ws does not.
        let variables = std::mem::take(&mut request.variables);
        let checked = match request.parsed_query() {
            Ok(document) => self.check(document, &variables),
            Err(_) => Err(parse(&request.query).err().unwrap_or_else(|| {
                coded(
                    ServerError::new("the query does not parse", None),
                    code::GRAPHQL_PARSE_FAILED,
                )
            })),
        };
        request.variables = variables;
        checked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn try_measure(query: &str) -> Result<Measure, Refusal> {
        let limits = QueryLimits::new(&ApiConfig::default());
        let document = async_graphql::parser::parse_query(query).expect("the test query parses");
        limits.measure(&document, &Variables::default())
    }

    fn measure(query: &str) -> Measure {
        try_measure(query).expect("measured")
    }

    /// `levels` fragments, each spreading the previous one `fan_out` times.
    fn fragment_bomb(levels: usize, fan_out: usize) -> String {
        let mut query = format!("{{ ...f{levels} }} fragment f0 on Query {{ __typename }}");
        for level in 1..=levels {
            let spreads = vec![format!("...f{}", level - 1); fan_out].join(" ");
            query.push_str(&format!(" fragment f{level} on Query {{ {spreads} }}"));
        }
        query
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
    fn plain_lists_cost_their_length_and_insights_what_they_scan() {
        // touchpointsByTeam: 4 teams × (team + perTeam × (kind)).
        let by_team = measure(
            "{ accounts(first: 1) { nodes { touchpointsByTeam(perTeam: 50) { team touchpoints { kind } } } } }",
        );
        assert_eq!(by_team.cost, 1 + 1 + (1 + 4 * (1 + 1 + 50)));
        // Order lines: the default list bound.
        let lines = measure("{ orders(first: 2) { nodes { lines { quantity } } } }");
        assert_eq!(lines.cost, 1 + 1 + 2 * (1 + cost::DEFAULT_LIST_BOUND));
        let one = measure("{ insights { attribution { conversions } } }").cost;
        assert_eq!(one, 1 + 2_000 + 1);
        let aliased: String = (0..300)
            .map(|i| format!("a{i}: attribution {{ conversions }} "))
            .collect();
        let many = measure(&format!("{{ insights {{ {aliased} }} }}")).cost;
        assert_eq!(many, 1 + 300 * (2_000 + 1));
    }

    #[test]
    fn variables_and_fragments_count() {
        let limits = QueryLimits::new(&ApiConfig::default());
        let document = async_graphql::parser::parse_query(
            "query($n: Int = 7) { accounts(first: $n) { ...page } } fragment page on AccountConnection { nodes { name owner } }",
        )
        .expect("parses");
        let measure = limits.measure(&document, &Variables::default()).expect("measured");
        assert_eq!(measure.cost, 1 + 1 + 7 * 2);
        assert_eq!(measure.selections, 5);
        let variables = Variables::from_json(serde_json::json!({ "n": 3 }));
        let measure = limits.measure(&document, &variables).expect("measured");
        assert_eq!(measure.cost, 1 + 1 + 3 * 2);
    }

    #[test]
    fn a_fragment_is_measured_once_however_often_it_is_spread() {
        // Two levels of ten: 100 uses of f0, 10 of f1, 1 of f2.
        assert_eq!(measure(&fragment_bomb(2, 10)).selections, 1 + 10 + 10 * (10 + 10));
        // Nine and ten levels of ten stand for 10⁹ and 10¹⁰ selections.
        assert_eq!(try_measure(&fragment_bomb(9, 10)), Err(Refusal::TooManySelections));
        assert_eq!(try_measure(&fragment_bomb(10, 10)), Err(Refusal::TooManySelections));
        // A chain of single spreads is refused by its nesting.
        assert_eq!(try_measure(&fragment_bomb(40, 1)), Err(Refusal::TooDeep));
        assert!(try_measure(&fragment_bomb(20, 1)).is_ok());
    }

    #[test]
    fn introspection_cycles_and_unused_fragments_are_found() {
        assert!(measure("{ ...root } fragment root on Query { __schema { queryType { name } } }").introspection);
        assert!(!measure("{ accounts(first: 1) { nodes { __typename } } }").introspection);
        assert_eq!(
            try_measure("{ ...a } fragment a on Query { ...b } fragment b on Query { ...a }"),
            Err(Refusal::Cycle("a".to_owned()))
        );
        assert_eq!(
            try_measure("{ __typename } fragment lost on Query { __typename }"),
            Err(Refusal::Unused("lost".to_owned()))
        );
    }
}
