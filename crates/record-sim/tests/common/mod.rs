//! A plain HTTP client for the simulator's tests: reqwest, nothing of the SDK.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read as _;

use record_sim::{AppCredentials, Sim, SimConfig, SimHandle};
use serde_json::Value;

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub fn small_config() -> SimConfig {
    SimConfig {
        seed: 42,
        record_count: 400,
        ..SimConfig::default()
    }
}

pub async fn start(config: SimConfig) -> SimHandle {
    Sim::start(config).await.expect("simulator starts")
}

pub fn client() -> reqwest::Client {
    // No automatic decompression, even when another crate of the workspace enables reqwest's
    // gzip feature: these tests look at the raw answers.
    reqwest::Client::builder()
        .no_gzip()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut body = response.bytes().await.expect("body read").to_vec();
    if headers.get("content-encoding").is_some_and(|v| v == "gzip") {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut plain)
            .unwrap();
        body = plain;
    }
    Answer {
        status,
        headers,
        body,
    }
}

pub async fn token_for(sim: &SimHandle, app: &AppCredentials) -> String {
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        app.client_id, app.client_secret
    );
    let answer = post_form(sim, &form).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.json()["access_token"].as_str().unwrap().to_owned()
}

pub async fn post_form(sim: &SimHandle, form: &str) -> Answer {
    send(
        client()
            .post(format!("{}/oauth/token", sim.base_url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned()),
    )
    .await
}

/// `GET {base}/api/ver1.0/{path}` with a bearer token.
pub async fn get(sim: &SimHandle, token: &str, path: &str) -> Answer {
    send(
        client()
            .get(format!("{}/api/ver1.0/{path}", sim.base_url()))
            .bearer_auth(token),
    )
    .await
}

pub async fn delete(sim: &SimHandle, token: &str, path: &str) -> Answer {
    send(
        client()
            .delete(format!("{}/api/ver1.0/{path}", sim.base_url()))
            .bearer_auth(token),
    )
    .await
}

/// The query of a window, with `%20` for the space.
pub fn window(start: &str, end: &str) -> String {
    format!(
        "start_datetime={}&end_datetime={}",
        start.replace(' ', "%20"),
        end.replace(' ', "%20")
    )
}

pub const JANUARY: (&str, &str) = ("2024-01-01 00:00:00", "2024-01-31 23:59:59");

/// The four scopes of the simulated PBX: (name, path prefix).
pub fn scopes(sim: &SimHandle) -> Vec<(&'static str, String)> {
    let c = sim.credentials();
    vec![
        ("client", format!("client/{}", c.client_id_number)),
        ("client_me", "client/@me".to_owned()),
        (
            "extension_group",
            format!("extension_group/{}", c.extension_group_id),
        ),
        ("extension", format!("extension/{}", c.extension_id)),
    ]
}

pub fn uuids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["record_uuid"].as_str().unwrap().to_owned())
        .collect()
}
