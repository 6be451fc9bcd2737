//! Relay global ids: base64 of `Type:id`, opaque to clients, resolvable by
//! `node(id:)`.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::Error;

/// The global id of row `id` of GraphQL type `type_name`.
pub fn encode(type_name: &str, id: i64) -> ID {
    ID(STANDARD.encode(format!("{type_name}:{id}")))
}

/// Splits a global id into its type name and row id.
pub fn decode(id: &ID, argument: &str) -> Result<(String, i64), Error> {
    let invalid = || Error::validation(argument, format!("{:?} is not an id issued by this API", id.as_str()));
    let bytes = STANDARD.decode(id.as_bytes()).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (type_name, row) = text.split_once(':').ok_or_else(invalid)?;
    let row = row.parse::<i64>().map_err(|_| invalid())?;
    Ok((type_name.to_owned(), row))
}

/// The row id of a global id that must be of type `type_name`.
pub fn decode_as(id: &ID, type_name: &str, argument: &str) -> Result<i64, Error> {
    let (actual, row) = decode(id, argument)?;
    if actual != type_name {
        return Err(Error::validation(
            argument,
            format!("expected the id of a {type_name}, got the id of a {actual}"),
        ));
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_refuse_other_types() {
        let id = encode("Customer", 42);
        assert_eq!(decode(&id, "id").ok(), Some(("Customer".to_owned(), 42)));
        assert!(decode_as(&id, "Account", "id").is_err());
        assert!(decode(&ID("not base64!".into()), "id").is_err());
    }
}
