//! The `record-sim` binary prints one JSON line once listening, and serves until killed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn prints_one_json_line_then_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_record-sim"))
        .args(["--addr", "127.0.0.1:0", "--seed", "5", "--records", "50"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let announced: serde_json::Value = serde_json::from_str(&line).unwrap();
    let base = announced["base_url"].as_str().unwrap().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    for app in ["client", "extension_group", "extension", "call_api_only"] {
        assert!(announced["apps"][app]["client_id"].is_string(), "{app}");
        assert!(announced["apps"][app]["client_secret"].is_string(), "{app}");
    }
    assert!(announced["apps"]["client"]["client_id_number"].is_u64());
    assert!(announced["apps"]["extension_group"]["extension_group_id"].is_u64());
    assert!(announced["apps"]["extension"]["extension_id"].is_u64());
    assert!(announced["pbx_login"]["username"].is_string());
    // It serves: a token request gets an answer.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("{base}/oauth/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&client_id=x&client_secret=y")
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 401);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn bad_flags_are_refused_with_usage() {
    let output = Command::new(env!("CARGO_BIN_EXE_record-sim"))
        .args(["--error-percent", "250"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("percentage"));
}
