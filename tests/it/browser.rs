//! What a browser (or a dashboard on another origin) needs from the server:
//! the console and GraphiQL served from the binary with nothing loaded from
//! another host, immutable caching of their files, CORS, compression, and
//! cache headers with ETag revalidation on GraphQL answers.

use std::collections::BTreeSet;

use accord::auth::keys;
use accord::config::ApiConfig;
use entity::enums::Role;
use reqwest::header::{
    ACCEPT, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, ORIGIN,
};

use crate::helpers::{Backend, TestApp};

async fn text(app: &TestApp, path: &str) -> (reqwest::header::HeaderMap, String) {
    let response = app
        .client
        .get(format!("{}{path}", app.base_url))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200, "{path}");
    let headers = response.headers().clone();
    (headers, response.text().await.expect("a text body"))
}

/// The local paths a page or module loads: `src=`/`href=` in HTML,
/// `import … from '…'` in JavaScript, `url(…)` in CSS.
fn references(base: &str, body: &str) -> Vec<String> {
    let mut found = Vec::new();
    for marker in ["src=\"", "href=\"", "from '", "import '", "url("] {
        for piece in body.split(marker).skip(1) {
            let end = piece.find(['"', '\'', ')']).unwrap_or(piece.len());
            found.push(piece[..end].trim_matches(['"', '\'']).to_owned());
        }
    }
    let directory = base.rsplit_once('/').map_or("", |(dir, _)| dir);
    found
        .into_iter()
        .filter(|target| !target.starts_with("data:") && !target.starts_with('#'))
        .map(|target| match target.strip_prefix("./") {
            Some(relative) => format!("{directory}/{relative}"),
            None if target.starts_with("../") => {
                let (parent, _) = directory.rsplit_once('/').unwrap_or(("", ""));
                format!("{parent}/{}", &target[3..])
            }
            None => target,
        })
        .collect()
}

/// A URL a browser would load from another host.
fn external(target: &str) -> bool {
    target.starts_with("http://") || target.starts_with("https://") || target.starts_with("//")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_pages_load_nothing_from_another_host() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut seen = BTreeSet::new();
    let mut queue = vec!["/".to_owned(), "/graphql".to_owned()];
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let (headers, body) = text(&app, &path).await;
        // Only scripts, styles and pages are read for what they load; the
        // vendored bundles are minified libraries whose strings name
        // hosts they never fetch, so they are checked for imports only.
        let vendored = path.contains("/vendor/");
        for target in references(&path, &body) {
            let loads = !vendored || target.contains(".js") || target.contains(".css");
            assert!(!(loads && external(&target)), "{path} loads {target}");
            if target.starts_with("/assets/") && !seen.contains(&target) {
                queue.push(target);
            }
        }
        if path.starts_with("/assets/") {
            assert_eq!(headers[CACHE_CONTROL], "public, max-age=31536000, immutable", "{path}");
        } else {
            assert_eq!(headers[CACHE_CONTROL], "no-cache", "{path}");
            assert!(
                headers["content-security-policy"]
                    .to_str()
                    .expect("ascii")
                    .contains("default-src 'self'")
            );
        }
    }
    let files: Vec<&String> = seen.iter().filter(|path| path.starts_with("/assets/")).collect();
    for expected in [
        "graphiql.min.js",
        "react.production.min.js",
        "uPlot.esm.js",
        "app.js",
        "review.js",
        "ui.js",
    ] {
        assert!(
            files.iter().any(|path| path.ends_with(expected)),
            "{expected} in {files:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asset_files_revalidate_and_other_builds_are_not_found() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, page) = text(&app, "/").await;
    let app_js = references("/", &page)
        .into_iter()
        .find(|path| path.ends_with("/console/app.js"))
        .expect("the console page loads app.js");
    let url = format!("{}{app_js}", app.base_url);
    let first = app.client.get(&url).send().await.expect("sent");
    assert_eq!(first.headers()[CONTENT_TYPE], "text/javascript");
    let etag = first.headers()[ETAG].clone();
    let again = app
        .client
        .get(&url)
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .expect("sent");
    assert_eq!(again.status().as_u16(), 304);
    let stale = app_js.replacen("/assets/", "/assets/0000", 1);
    let stale = app
        .client
        .get(format!("{}{stale}", app.base_url))
        .send()
        .await
        .expect("sent");
    assert_eq!(stale.status().as_u16(), 404);
}

fn cors_config() -> ApiConfig {
    ApiConfig {
        cors_origins: vec!["https://dash.example.com".to_owned()],
        ..ApiConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_allows_listed_origins_with_authorization_and_content_type() {
    let app = TestApp::spawn_with(Backend::Sqlite, cors_config()).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base_url))
            .header(ORIGIN, origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
    };
    let allowed = preflight("https://dash.example.com").await.expect("sent");
    assert_eq!(allowed.status().as_u16(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://dash.example.com"
    );
    let headers = allowed.headers()["access-control-allow-headers"]
        .to_str()
        .expect("ascii");
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );
    let refused = preflight("https://evil.example.com").await.expect("sent");
    assert!(refused.headers().get("access-control-allow-origin").is_none());
    // By default no origin is allowed, and localhost only with --demo.
    let default = TestApp::spawn(Backend::Sqlite).await;
    let local = default
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", default.base_url))
        .header(ORIGIN, "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("sent");
    assert!(local.headers().get("access-control-allow-origin").is_none());
    // The actual request carries the header too.
    let answer = app
        .client
        .post(format!("{}/graphql", app.base_url))
        .header(ORIGIN, "https://dash.example.com")
        .json(&serde_json::json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        "https://dash.example.com"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_answers_are_compressed_small_ones_are_not() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.import_golden().await;
    let query =
        serde_json::json!({ "query": "{ customers(first: 100) { nodes { externalId region country firstSeenAt } } }" });
    for encoding in ["gzip", "br"] {
        let plain = app
            .client
            .post(format!("{}/graphql", app.base_url))
            .json(&query)
            .send()
            .await
            .expect("sent");
        assert!(plain.headers().get(CONTENT_ENCODING).is_none());
        let plain = plain.bytes().await.expect("body").len();
        assert!(plain > 1024, "the answer has {plain} bytes");
        let packed = app
            .client
            .post(format!("{}/graphql", app.base_url))
            .header(ACCEPT_ENCODING, encoding)
            .json(&query)
            .send()
            .await
            .expect("sent");
        assert_eq!(packed.headers()[CONTENT_ENCODING], encoding);
        let packed = packed.bytes().await.expect("body").len();
        assert!(packed < plain, "{encoding}: {packed} of {plain} bytes");
    }
    let small = app
        .client
        .post(format!("{}/graphql", app.base_url))
        .header(ACCEPT_ENCODING, "gzip, br")
        .json(&serde_json::json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("sent");
    assert!(small.headers().get(CONTENT_ENCODING).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_answers_carry_an_etag_and_authenticated_answers_are_not_stored() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let key = keys::create(&app.db, Role::Analyst, "etag test")
        .await
        .expect("key")
        .secret;
    let url = format!("{}/graphql?query=%7B__typename%7D", app.base_url);
    let first = app.client.get(&url).bearer_auth(&key).send().await.expect("sent");
    assert_eq!(first.status().as_u16(), 200);
    assert_eq!(first.headers()[CACHE_CONTROL], "no-store");
    let etag = first.headers()[ETAG].clone();
    let again = app
        .client
        .get(&url)
        .bearer_auth(&key)
        .header(IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .expect("sent");
    assert_eq!(again.status().as_u16(), 304);
    assert_eq!(again.headers()[ETAG], etag);
    assert!(again.bytes().await.expect("body").is_empty());
    // Without a credential (a server that allows it), revalidate each time.
    let open = app.client.get(&url).send().await.expect("sent");
    assert_eq!(open.headers()[CACHE_CONTROL], "no-cache");
    // POST answers are never revalidated by ETag, and a changed answer has another ETag.
    let post = app
        .client
        .post(format!("{}/graphql", app.base_url))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(post.headers()[CACHE_CONTROL], "no-store");
    assert!(post.headers().get(ETAG).is_none());
    let other = app
        .client
        .get(format!("{}/graphql?query=%7Bsegments%7BtotalCount%7D%7D", app.base_url))
        .bearer_auth(&key)
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .expect("sent");
    assert_eq!(other.status().as_u16(), 200);
}
