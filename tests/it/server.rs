//! The HTTP surface around GraphQL: health, GraphiQL, GET queries and the
//! WebSocket endpoint.

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{TestApp, on_both_backends};

on_both_backends!(
    health_graphiql_and_get_queries_answer,
    websocket_speaks_graphql_transport_ws
);

async fn health_graphiql_and_get_queries_answer(app: TestApp) {
    for path in ["/healthz", "/readyz"] {
        let response = app
            .client
            .get(format!("{}{path}", app.base_url))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status().as_u16(), 200, "{path}");
    }
    let page = app
        .client
        .get(format!("{}/graphql", app.base_url))
        .header("accept", "text/html")
        .send()
        .await
        .expect("sent");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.expect("text").contains("graphiql"));

    let response = app
        .client
        .get(format!("{}/graphql", app.base_url))
        .query(&[("query", "{ accounts { totalCount } }")])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers().get("x-request-id").is_some(),
        "every response carries a request id"
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(body, json!({ "data": { "accounts": { "totalCount": 0 } } }));
}

async fn websocket_speaks_graphql_transport_ws(app: TestApp) {
    let url = format!("{}/graphql/ws", app.base_url.replacen("http", "ws", 1));
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("WebSocket connects");
    socket
        .send(Message::text(json!({ "type": "connection_init" }).to_string()))
        .await
        .expect("send");
    let ack = next_json(&mut socket).await;
    assert_eq!(ack["type"], "connection_ack");
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ accounts { totalCount } }" } });
    socket.send(Message::text(subscribe.to_string())).await.expect("send");
    let next = next_json(&mut socket).await;
    assert_eq!(next["type"], "next", "{next}");
    assert_eq!(next["payload"]["data"]["accounts"]["totalCount"], 0);
    assert_eq!(next_json(&mut socket).await["type"], "complete");
}

async fn next_json<S>(socket: &mut S) -> Value
where
    S: StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(text.as_str()).expect("JSON message");
            }
            Some(Ok(_)) => continue,
            other => panic!("the socket ended: {other:?}"),
        }
    }
}
