//! The shape of the served schema, read once from its SDL: for every
//! object and interface type, the type of each field, with its
//! nullability and list levels. The query limits use it to recognise
//! connections; completing a response uses it to know where a failed
//! field's null may stand.

use std::collections::HashMap;
use std::sync::LazyLock;

use async_graphql::parser::types::{BaseType, OperationType, Type, TypeKind, TypeSystemDefinition};

/// The type of a field: the named type at its core and, from the outside
/// in, whether each level (the field itself, then each list's items) is
/// non-null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldType {
    pub named: String,
    /// `[Account!]!` is `[true, true]`, `[Int]` is `[false, false]`, `String!` is `[true]`.
    pub non_null: Vec<bool>,
}

impl FieldType {
    fn of(ty: &Type) -> Self {
        let mut non_null = vec![!ty.nullable];
        let mut base = &ty.base;
        let named = loop {
            match base {
                BaseType::List(item) => {
                    non_null.push(!item.nullable);
                    base = &item.base;
                }
                BaseType::Named(name) => break name.to_string(),
            }
        };
        Self { named, non_null }
    }

    /// Whether this is a Relay connection (`…Connection`), whose items cost
    /// their page size.
    pub fn is_connection(&self) -> bool {
        self.named.ends_with("Connection") && self.non_null.len() == 1
    }
}

#[derive(Debug, Default)]
pub struct SchemaShape {
    fields: HashMap<String, HashMap<String, FieldType>>,
    query: String,
    mutation: String,
    subscription: String,
}

/// The shape of the schema this binary serves.
pub fn shape() -> &'static SchemaShape {
    static SHAPE: LazyLock<SchemaShape> = LazyLock::new(|| SchemaShape::from_sdl(&super::sdl()));
    &SHAPE
}

impl SchemaShape {
    /// Reads an SDL document; what it cannot read is left out (a field of
    /// unknown type then counts as a plain nullable field).
    pub fn from_sdl(sdl: &str) -> Self {
        let mut shape = SchemaShape {
            query: "Query".to_owned(),
            mutation: "Mutation".to_owned(),
            subscription: "Subscription".to_owned(),
            ..SchemaShape::default()
        };
        let document = match async_graphql::parser::parse_schema(sdl) {
            Ok(document) => document,
            Err(error) => {
                tracing::error!(%error, "the served SDL does not parse; query limits see no connections");
                return shape;
            }
        };
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    let schema = schema.node;
                    if let Some(name) = schema.query {
                        shape.query = name.node.to_string();
                    }
                    if let Some(name) = schema.mutation {
                        shape.mutation = name.node.to_string();
                    }
                    if let Some(name) = schema.subscription {
                        shape.subscription = name.node.to_string();
                    }
                }
                TypeSystemDefinition::Type(definition) => {
                    let definition = definition.node;
                    let fields = match definition.kind {
                        TypeKind::Object(object) => object.fields,
                        TypeKind::Interface(interface) => interface.fields,
                        _ => continue,
                    };
                    let fields = fields
                        .into_iter()
                        .map(|field| (field.node.name.node.to_string(), FieldType::of(&field.node.ty.node)))
                        .collect();
                    shape.fields.insert(definition.name.node.to_string(), fields);
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        shape
    }

    /// The type of `field` on object or interface `type_name`, when the schema has it.
    pub fn field(&self, type_name: &str, field: &str) -> Option<&FieldType> {
        self.fields.get(type_name)?.get(field)
    }

    /// The root type of an operation.
    pub fn root(&self, operation: OperationType) -> &str {
        match operation {
            OperationType::Query => &self.query,
            OperationType::Mutation => &self.mutation,
            OperationType::Subscription => &self.subscription,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nullability_lists_and_connections() {
        let shape = shape();
        let accounts = shape.field("Query", "accounts").expect("Query.accounts");
        assert_eq!(accounts.named, "AccountConnection");
        assert_eq!(accounts.non_null, vec![true]);
        assert!(accounts.is_connection());
        let nodes = shape.field("AccountConnection", "nodes").expect("nodes");
        assert_eq!(nodes.non_null, vec![true, true]);
        assert!(!nodes.is_connection());
        let account = shape.field("Query", "account").expect("Query.account");
        assert_eq!(account.non_null, vec![false]);
        assert!(shape.field("Node", "id").is_some(), "interfaces have fields too");
        assert_eq!(shape.root(OperationType::Mutation), "Mutation");
    }
}
