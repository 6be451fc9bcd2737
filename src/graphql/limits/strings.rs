//! Every string a request passes in — argument literals anywhere in the
//! document and every variable — must be text both backends store and
//! compare: no NUL character (PostgreSQL's text cannot hold one, so a
//! filter with one failed as INTERNAL there while SQLite answered) and at
//! most [`MAX_TEXT_CHARS`] characters, the longest text a record may hold.
//! A refusal is BAD_USER_INPUT naming the argument or variable, before
//! anything runs. Fragments are read once each, spreads are not followed.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, ServerError, Variables};
use async_graphql_value::ConstValue;

use crate::error::code;
pub use crate::ingest::records::MAX_TEXT_CHARS;

/// Refuses the first string of the request that is not storable text.
pub fn check(document: &ExecutableDocument, variables: &Variables) -> Result<(), ServerError> {
    for (name, value) in variables.iter() {
        check_const(&format!("${name}"), value)?;
    }
    let operations = document
        .operations
        .iter()
        .map(|(_, operation)| &operation.node.selection_set.node);
    let fragments = document
        .fragments
        .values()
        .map(|fragment| &fragment.node.selection_set.node);
    for set in operations.chain(fragments) {
        check_set(set)?;
    }
    Ok(())
}

fn check_set(set: &SelectionSet) -> Result<(), ServerError> {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                for (name, value) in &field.node.arguments {
                    // Variables are checked on their own; here they stand as null.
                    let literal = value.node.clone().into_const_with(|_| Ok::<_, ()>(ConstValue::Null));
                    if let Ok(literal) = literal {
                        check_const(name.node.as_str(), &literal)?;
                    }
                }
                check_set(&field.node.selection_set.node)?;
            }
            Selection::InlineFragment(fragment) => check_set(&fragment.node.selection_set.node)?,
            Selection::FragmentSpread(_) => {}
        }
    }
    Ok(())
}

fn check_const(path: &str, value: &ConstValue) -> Result<(), ServerError> {
    match value {
        ConstValue::String(text) => check_text(path, text),
        ConstValue::List(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(index, item)| check_const(&format!("{path}[{index}]"), item)),
        ConstValue::Object(fields) => fields.iter().try_for_each(|(key, item)| {
            if key.contains('\0') {
                return Err(refusal(path, "a key must not contain a NUL character".to_owned()));
            }
            check_const(&format!("{path}.{key}"), item)
        }),
        _ => Ok(()),
    }
}

fn check_text(path: &str, text: &str) -> Result<(), ServerError> {
    if text.contains('\0') {
        return Err(refusal(path, "must not contain a NUL character".to_owned()));
    }
    // Bytes bound characters from above: count only when it could matter.
    if text.len() > MAX_TEXT_CHARS && text.chars().count() > MAX_TEXT_CHARS {
        return Err(refusal(
            path,
            format!(
                "is {} characters long; the most is {MAX_TEXT_CHARS}",
                text.chars().count()
            ),
        ));
    }
    Ok(())
}

fn refusal(path: &str, reason: String) -> ServerError {
    let mut error = ServerError::new(format!("argument {path:?} {reason}"), None);
    let extensions = error.extensions.get_or_insert_with(ErrorExtensionValues::default);
    extensions.set("code", code::BAD_USER_INPUT);
    extensions.set("field", path);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(query: &str, variables: serde_json::Value) -> Result<(), ServerError> {
        let document = async_graphql::parser::parse_query(query).map_err(|e| ServerError::new(e.to_string(), None))?;
        check(&document, &Variables::from_json(variables))
    }

    #[test]
    fn nul_characters_and_overlong_strings_are_refused_naming_the_argument() {
        let refused = checked(
            r#"{ customers(filter: { region: "a\u0000b" }) { totalCount } }"#,
            serde_json::json!({}),
        );
        assert!(refused.is_err_and(|e| e.message.contains("\"filter.region\"")));
        let in_fragment = checked(
            r#"{ ...F } fragment F on Query { customers(filter: { region: "a\u0000" }) { totalCount } }"#,
            serde_json::json!({}),
        );
        assert!(in_fragment.is_err());
        let variable = checked(
            "query($f: CustomerFilter) { customers(filter: $f) { totalCount } }",
            serde_json::json!({ "f": { "region": "x".repeat(MAX_TEXT_CHARS + 1) } }),
        );
        assert!(variable.is_err_and(|e| e.message.contains("\"$f.region\"")));
        let fine = checked(
            r#"{ customers(filter: { region: "Zürich" }) { totalCount } }"#,
            serde_json::json!({ "f": "é".repeat(MAX_TEXT_CHARS) }),
        );
        assert!(fine.is_ok());
    }
}
