//! The real `accord` binary as a server process of its own, for tests that
//! kill it or read what it logs.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct ServerProcess {
    pub child: Child,
    pub base_url: String,
}

impl ServerProcess {
    /// `accord serve --insecure-no-auth --database-url URL <options>` on a
    /// free port, its stderr going to `stderr`; returns once `/readyz` answers.
    pub async fn start(database_url: &str, options: &[&str], stderr: Stdio) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(["serve", "--insecure-no-auth", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--database-url", database_url])
            .args(options)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("the accord binary starts");
        // Owned from here on, so that a failing test still kills it.
        let server = ServerProcess {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client
                .get(format!("{}/readyz", server.base_url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server process never became ready");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}
