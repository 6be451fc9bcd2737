//! NDJSON records for tests that write through the ingest endpoints.

use serde_json::{Value, json};

pub fn ndjson(records: &[Value]) -> String {
    records.iter().map(|record| format!("{record}\n")).collect()
}

pub fn account(id: &str) -> Value {
    json!({ "externalId": id, "name": format!("Account {id}"), "kind": "RETAILER", "region": "UK", "tier": "KEY", "owner": "rep@example.com" })
}

pub fn customer(id: &str, email: &str, account: Option<&str>) -> Value {
    json!({
        "externalId": id, "accountExternalId": account, "email": email, "name": format!("Person {id}"),
        "region": "UK", "country": "GB", "acquisitionChannel": "direct",
        "firstSeenAt": "2025-01-01T00:00:00Z", "traits": {}
    })
}

pub fn product(id: &str) -> Value {
    json!({ "externalId": id, "sku": format!("SKU-{id}"), "name": "Kettle", "category": "kitchen", "launchedAt": "2024-01-01T00:00:00Z" })
}

pub fn order(id: &str, customer: &str, account: Option<&str>, product: &str) -> Value {
    json!({
        "externalId": id, "customerExternalId": customer, "accountExternalId": account, "channel": "ONLINE",
        "orderedAt": "2025-03-01T10:00:00Z", "currency": "USD", "amountMinor": 2500,
        "lines": [{ "productExternalId": product, "quantity": 1, "unitAmountMinor": 2500 }]
    })
}

pub fn touchpoint(id: &str, customer: &str, account: Option<&str>) -> Value {
    json!({
        "externalId": id, "customerExternalId": customer, "accountExternalId": account,
        "team": "MARKETING", "channel": "email", "kind": "CLICK", "occurredAt": "2025-02-01T09:00:00Z",
        "properties": { "utm_campaign": "spring" }
    })
}

pub fn lead(id: &str, customer: &str) -> Value {
    json!({
        "externalId": id, "customerExternalId": customer, "sourceTeam": "MARKETING", "stage": "MQL",
        "createdAt": "2025-02-01T09:00:00Z", "mqlAt": "2025-02-02T09:00:00Z"
    })
}

/// The same records as CSV: a header of every field any record has, then
/// one row each, nested values (and `null`s' absence) as JSON cells.
pub fn csv(records: &[Value]) -> String {
    let mut header: Vec<String> = Vec::new();
    for record in records {
        for key in record.as_object().expect("an object").keys() {
            if !header.contains(key) {
                header.push(key.clone());
            }
        }
    }
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    writer.write_record(&header).expect("a header");
    for record in records {
        let row = header.iter().map(|field| match record.get(field) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        });
        writer.write_record(row).expect("a row");
    }
    String::from_utf8(writer.into_inner().expect("flushed")).expect("UTF-8")
}
