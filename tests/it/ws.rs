//! A graphql-transport-ws client over a real WebSocket, for subscription tests.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Connects to `base_url`'s `/graphql/ws` and completes `connection_init`
    /// with `payload`.
    pub async fn connect(base_url: &str, payload: Value) -> WsClient {
        match Self::try_connect(base_url, payload).await {
            Ok(client) => client,
            Err((code, reason)) => panic!("connection_init refused with {code}: {reason}"),
        }
    }

    /// Sends `connection_init` with `payload` and returns the close frame
    /// the server answers a refused one with: its code and reason.
    pub async fn refused(base_url: &str, payload: Value) -> (u16, String) {
        match Self::try_connect(base_url, payload).await {
            Ok(_) => panic!("connection_init was acknowledged"),
            Err(close) => close,
        }
    }

    /// The connection once `connection_init` is acknowledged, or the close
    /// frame (code and reason) that refused it.
    pub async fn try_connect(base_url: &str, payload: Value) -> Result<WsClient, (u16, String)> {
        let mut client = Self::init(base_url, payload).await;
        let answer = async {
            loop {
                match client.socket.next().await {
                    Some(Ok(Message::Close(Some(frame)))) => {
                        return Err((u16::from(frame.code), frame.reason.to_string()));
                    }
                    Some(Ok(Message::Text(text))) => {
                        let ack: Value = serde_json::from_str(text.as_str()).expect("JSON message");
                        assert_eq!(ack["type"], "connection_ack", "{ack}");
                        return Ok(());
                    }
                    Some(Ok(_)) => continue,
                    other => panic!("the socket ended without a close frame: {other:?}"),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), answer)
            .await
            .expect("an answer to connection_init within 20 s")?;
        Ok(client)
    }

    /// The close frame the server ends the connection with (code and
    /// reason), skipping messages before it; fails the test after 20 s.
    pub async fn closed(&mut self) -> (u16, String) {
        let close = async {
            loop {
                match self.socket.next().await {
                    Some(Ok(Message::Close(Some(frame)))) => return (u16::from(frame.code), frame.reason.to_string()),
                    Some(Ok(_)) => continue,
                    other => panic!("the socket ended without a close frame: {other:?}"),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), close)
            .await
            .expect("a close frame within 20 s")
    }

    /// Sends a text message as it is, and whether it could be sent whole
    /// (a server may refuse a message before it has all arrived).
    pub async fn send_text(&mut self, text: String) -> bool {
        self.socket.send(Message::text(text)).await.is_ok()
    }

    /// Opens a graphql-transport-ws connection and sends `connection_init`.
    async fn init(base_url: &str, payload: Value) -> WsClient {
        let url = format!("{}/graphql/ws", base_url.replacen("http", "ws", 1));
        let mut request = url.into_client_request().expect("request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("WebSocket connects");
        let mut client = WsClient { socket };
        client
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        client
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }

    /// Starts operation `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// The next JSON message; fails the test after 20 s of silence.
    pub async fn next(&mut self) -> Value {
        let read = async {
            loop {
                match self.socket.next().await {
                    Some(Ok(Message::Text(text))) => {
                        return serde_json::from_str::<Value>(text.as_str()).expect("JSON message");
                    }
                    Some(Ok(_)) => continue,
                    other => panic!("the socket ended: {other:?}"),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), read)
            .await
            .expect("a message within 20 s")
    }

    /// Whether a message arrives within `wait` (for asserting silence).
    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        tokio::time::timeout(wait, self.next()).await.ok()
    }
}
