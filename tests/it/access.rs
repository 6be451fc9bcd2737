//! Access control: API keys, the role × operation matrix over every root
//! field of the schema, PII masking, and the audit log.
//!
//! The matrix walks the served SDL, so a new root field without an entry
//! below fails this test until someone decides who may use it.

use std::collections::HashMap;

use accord::auth::keys;
use async_graphql::parser::types::{BaseType, Type, TypeDefinition, TypeKind, TypeSystemDefinition};
use entity::enums::Role;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_backends};
use crate::records::{customer, ndjson};
use crate::ws::WsClient;

on_both_backends!(secured:
    requests_need_a_valid_key,
    every_root_field_follows_the_role_matrix,
    pii_is_masked_for_roles_without_pii_access,
    mutations_are_audited
);

async fn key(app: &TestApp, role: Role) -> String {
    keys::create(&app.db, role, &format!("test {role}"))
        .await
        .expect("key created")
        .secret
}

fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn requests_need_a_valid_key(app: TestApp) {
    let (status, body) = app.post("{ insights { nps { n } } }", json!({})).await;
    assert_eq!(
        (status, codes(&body)),
        (401, vec!["UNAUTHENTICATED".to_owned()]),
        "{body}"
    );
    let (status, body) = app.post_as("acc_not-a-key", "{ __typename }", json!({})).await;
    assert_eq!(
        (status, codes(&body)),
        (401, vec!["UNAUTHENTICATED".to_owned()]),
        "{body}"
    );

    let analyst = key(&app, Role::Analyst).await;
    let (status, body) = app.post_as(&analyst, "{ __typename }", json!({})).await;
    assert_eq!((status, body), (200, json!({ "data": { "__typename": "Query" } })));

    // A revoked key stops working.
    let created = keys::create(&app.db, Role::Sales, "leaver").await.expect("key");
    keys::revoke(&app.db, created.key.id).await.expect("revoked");
    let (status, _) = app.post_as(&created.secret, "{ __typename }", json!({})).await;
    assert_eq!(status, 401);

    // Bulk ingest and exports are refused without a key, and for roles
    // that may not use them.
    let (status, _) = app.bulk(&app.base_url, "customers", "", String::new()).await;
    assert_eq!(status, 401);
    let response = app
        .client
        .post(format!("{}/ingest/customers", app.base_url))
        .bearer_auth(&analyst)
        .header("content-type", "application/x-ndjson")
        .body(ndjson(&[customer("C1", "c1@example.com", None)]))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 403);

    // Subscriptions authenticate in connection_init; graphql-transport-ws
    // closes a refused one with 4403 Forbidden.
    let (code, reason) = WsClient::refused(&app.base_url, json!({ "Authorization": "Bearer acc_not-a-key" })).await;
    assert_eq!(code, 4403, "{reason}");
    let (code, _) = WsClient::refused(&app.base_url, json!({})).await;
    assert_eq!(code, 4403);
    let mut socket = WsClient::connect(&app.base_url, json!({ "Authorization": format!("Bearer {analyst}") })).await;
    socket.subscribe("1", "{ __typename }", json!({})).await;
    assert_eq!(socket.next().await["payload"]["data"]["__typename"], "Query");
    let dashboard = key(&app, Role::Dashboard).await;
    let mut socket = WsClient::connect(&app.base_url, json!({ "Authorization": format!("Bearer {dashboard}") })).await;
    socket
        .subscribe(
            "1",
            "subscription { touchpointRecorded(customerId: \"Q3VzdG9tZXI6MQ==\") { id } }",
            json!({}),
        )
        .await;
    let refused = socket.next().await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
}

/// The served SDL, parsed.
struct Sdl(HashMap<String, TypeDefinition>);

impl Sdl {
    fn load() -> Sdl {
        let document = async_graphql::parser::parse_schema(accord::graphql::sdl()).expect("the SDL parses");
        Sdl(document
            .definitions
            .into_iter()
            .filter_map(|definition| match definition {
                TypeSystemDefinition::Type(ty) => Some((ty.node.name.node.to_string(), ty.node)),
                _ => None,
            })
            .collect())
    }

    fn fields(&self, type_name: &str) -> Vec<(String, String)> {
        let Some(TypeKind::Object(object)) = self.0.get(type_name).map(|t| &t.kind) else {
            return Vec::new();
        };
        object
            .fields
            .iter()
            .map(|field| {
                let arguments: Vec<String> = field
                    .node
                    .arguments
                    .iter()
                    .filter(|argument| !argument.node.ty.node.nullable)
                    .map(|argument| format!("{}: {}", argument.node.name.node, self.literal(&argument.node.ty.node)))
                    .collect();
                let call = if arguments.is_empty() {
                    field.node.name.node.to_string()
                } else {
                    format!("{}({})", field.node.name.node, arguments.join(", "))
                };
                let selection = if self.is_leaf(&field.node.ty.node) {
                    ""
                } else {
                    " { __typename }"
                };
                (field.node.name.node.to_string(), format!("{call}{selection}"))
            })
            .collect()
    }

    fn named(ty: &Type) -> &str {
        match &ty.base {
            BaseType::Named(name) => name.as_str(),
            BaseType::List(inner) => Self::named(inner),
        }
    }

    fn is_leaf(&self, ty: &Type) -> bool {
        !matches!(
            self.0.get(Self::named(ty)).map(|t| &t.kind),
            Some(TypeKind::Object(_) | TypeKind::Interface(_) | TypeKind::Union(_))
        )
    }

    /// A literal of type `ty` that passes validation (not necessarily the
    /// resolver's checks): enough to reach the access rules.
    fn literal(&self, ty: &Type) -> String {
        if let BaseType::List(inner) = &ty.base {
            return format!("[{}]", self.literal(inner));
        }
        let name = Self::named(ty);
        match name {
            "String" => "\"x\"".to_owned(),
            "Int" | "BigInt" => "1".to_owned(),
            "Float" => "1.0".to_owned(),
            "Boolean" => "true".to_owned(),
            "ID" => "\"QWNjb3VudDox\"".to_owned(),
            "Date" => "\"2025-01-01\"".to_owned(),
            "DateTime" => "\"2025-01-01T00:00:00Z\"".to_owned(),
            "JSON" => "{}".to_owned(),
            _ => match self.0.get(name) {
                Some(definition) => match &definition.kind {
                    TypeKind::Enum(values) => values.values[0].node.value.node.to_string(),
                    TypeKind::InputObject(input) => {
                        let one_of = definition.directives.iter().any(|d| d.node.name.node == "oneOf");
                        let fields: Vec<String> = input
                            .fields
                            .iter()
                            .filter(|field| one_of || !field.node.ty.node.nullable)
                            // A @oneOf rule may nest itself: pick a way out.
                            .filter(|field| !one_of || Self::named(&field.node.ty.node) != name)
                            .take(if one_of { 1 } else { usize::MAX })
                            .map(|field| format!("{}: {}", field.node.name.node, self.literal(&field.node.ty.node)))
                            .collect();
                        format!("{{ {} }}", fields.join(", "))
                    }
                    _ => "\"x\"".to_owned(),
                },
                None => "\"x\"".to_owned(),
            },
        }
    }
}

const ROLES: [Role; 6] = [
    Role::Admin,
    Role::Sales,
    Role::Marketing,
    Role::Analyst,
    Role::Dashboard,
    Role::Ingest,
];

/// Who may call each root field (DESIGN.md §5).
fn allowed(operation: &str, field: &str, role: Role) -> bool {
    use Role::*;
    let readers = matches!(role, Admin | Sales | Marketing | Analyst);
    let writes = |kinds: &[Role]| role == Admin || kinds.contains(&role);
    match (operation, field) {
        ("query", "insights") => role != Ingest,
        ("query", _) => readers,
        ("mutation", "upsertTouchpoint" | "upsertLead") => writes(&[Ingest, Sales]),
        ("mutation", "upsertCampaign") => writes(&[Ingest, Marketing]),
        ("mutation", name) if name.starts_with("upsert") || name == "ingest" => writes(&[Ingest]),
        ("mutation", "mergeCustomers") => writes(&[Ingest]),
        ("mutation", name) if name.ends_with("Segment") => writes(&[Marketing]),
        (operation, field) => panic!("no access rule for {operation} {field}: add it to this matrix"),
    }
}

async fn every_root_field_follows_the_role_matrix(app: TestApp) {
    let sdl = Sdl::load();
    let mut keys_by_role = Vec::new();
    for role in ROLES {
        keys_by_role.push((role, key(&app, role).await));
    }
    let mut checked = 0;
    for (operation, root) in [("query", "Query"), ("mutation", "Mutation")] {
        for (field, selection) in sdl.fields(root) {
            if field.starts_with('_') {
                continue;
            }
            let document = format!("{operation} {{ {selection} }}");
            for (role, secret) in &keys_by_role {
                let (status, body) = app.post_as(secret, &document, json!({})).await;
                assert_eq!(status, 200, "{document} as {role}: {body}");
                let forbidden = codes(&body).iter().any(|code| code == "FORBIDDEN");
                assert_eq!(
                    forbidden,
                    !allowed(operation, &field, *role),
                    "{document} as {role}: {body}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 6 * 30, "the matrix covered {checked} cases");
}

async fn pii_is_masked_for_roles_without_pii_access(app: TestApp) {
    let admin = key(&app, Role::Admin).await;
    let response = app
        .client
        .post(format!("{}/ingest/customers", app.base_url))
        .bearer_auth(&admin)
        .header("content-type", "application/x-ndjson")
        .body(ndjson(&[customer("C1", "c1@example.com", None)]))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    let query = "{ customers { nodes { externalId region email name phone } } }";
    for role in [Role::Admin, Role::Sales, Role::Marketing] {
        let (_, body) = app.post_as(&key(&app, role).await, query, json!({})).await;
        assert_eq!(
            body["data"]["customers"]["nodes"][0]["email"], "c1@example.com",
            "{role}: {body}"
        );
        assert!(body.get("errors").is_none(), "{role}: {body}");
    }
    let (_, body) = app.post_as(&key(&app, Role::Analyst).await, query, json!({})).await;
    assert_eq!(
        body["data"]["customers"]["nodes"][0],
        json!({ "externalId": "C1", "region": "UK", "email": null, "name": null, "phone": null }),
        "{body}"
    );
    let mut masked: Vec<String> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            assert_eq!(e["extensions"]["code"], "FORBIDDEN");
            e["path"][3].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    masked.sort();
    assert_eq!(masked, vec!["email", "name", "phone"]);
    // DASHBOARD reads aggregates, not people.
    let (_, body) = app.post_as(&key(&app, Role::Dashboard).await, query, json!({})).await;
    assert_eq!(codes(&body), vec!["FORBIDDEN".to_owned()], "{body}");
}

async fn mutations_are_audited(app: TestApp) {
    let marketing = keys::create(&app.db, Role::Marketing, "campaign tool")
        .await
        .expect("key");
    let create = "mutation { createSegment(input: { name: \"Everyone\", team: MARKETING, rule: { not: { trait: { field: \"region\", operator: EQ, value: \"nowhere\" } } } }) { id } }";
    let (_, body) = app.post_as(&marketing.secret, create, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let entries = entity::audit_log::Entity::find().all(&app.db).await.expect("audit log");
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].api_key_id, Some(marketing.key.id));
    assert_eq!(entries[0].action, "createSegment");
    // A refused mutation changes nothing, and is not audited as done.
    let sales = key(&app, Role::Sales).await;
    let (_, body) = app.post_as(&sales, create, json!({})).await;
    assert_eq!(codes(&body), vec!["FORBIDDEN".to_owned()]);
    assert_eq!(
        entity::audit_log::Entity::find()
            .all(&app.db)
            .await
            .expect("audit log")
            .len(),
        1
    );
    // A bulk load is audited with its counts, never its records.
    let ingest = keys::create(&app.db, Role::Ingest, "loader").await.expect("key");
    let body = format!(
        "{}{}",
        crate::records::ndjson(&[crate::records::account("A1")]),
        "{\"externalId\": \"A2\"}\n"
    );
    let response = app
        .client
        .post(format!("{}/ingest/accounts", app.base_url))
        .bearer_auth(&ingest.secret)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    let entries = entity::audit_log::Entity::find().all(&app.db).await.expect("audit log");
    let bulk: Vec<_> = entries.iter().filter(|entry| entry.action == "bulkIngest").collect();
    assert_eq!(bulk.len(), 1, "{entries:?}");
    assert_eq!(bulk[0].api_key_id, Some(ingest.key.id));
    assert_eq!(bulk[0].target, "accounts: 1 written, 1 rejected, committed");
}
