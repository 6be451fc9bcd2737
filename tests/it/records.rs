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
