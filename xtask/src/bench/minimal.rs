//! The weight of the SDK next to raw HTTP code: packages in `cargo tree` and the size of a
//! minimal release binary that lists one window, for the facade (blocking-only, async-only) and
//! for the same program written with ureq + serde_json and reqwest + serde_json.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

/// One minimal program: its name, its dependencies, its `main`.
struct Program {
    name: &'static str,
    dependencies: String,
    main: &'static str,
}

fn programs(root: &Path) -> [Program; 4] {
    let facade = root.join("crates/telphin-records");
    let facade = facade.to_string_lossy();
    [
        Program {
            name: "raw-ureq",
            dependencies: r#"ureq = "3"
serde_json = "1""#
                .to_owned(),
            main: r#"fn main() {
    let url = std::env::args().nth(1).unwrap_or_default();
    let body = ureq::get(&url).call().map(|mut a| a.body_mut().read_to_vec());
    if let Ok(Ok(body)) = body {
        let list: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap_or_default();
        println!("{}", list.len());
    }
}
"#,
        },
        Program {
            name: "facade-blocking",
            dependencies: format!(
                r#"telphin-records = {{ path = "{facade}", default-features = false, features = ["blocking", "rustls"] }}"#
            ),
            main: r#"use telphin_records::{ClientBuilder, ClientId, Credentials, Order, QueryWindow, Scope};

fn main() {
    let window = QueryWindow::parse("2024-03-01 00:00:00", "2024-03-31 23:59:59");
    let client = ClientBuilder::new(Credentials::access_token("token")).build_blocking();
    if let (Ok(window), Ok(client)) = (window, client) {
        let list = client.list_window(Scope::client(ClientId::Me), window, Order::Asc);
        println!("{}", list.map(|l| l.len()).unwrap_or(0));
    }
}
"#,
        },
        Program {
            name: "raw-reqwest",
            dependencies: r#"reqwest = { version = "0.13", default-features = false, features = ["rustls", "gzip"] }
tokio = { version = "1", features = ["rt", "macros"] }
serde_json = "1""#
                .to_owned(),
            main: r#"#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = std::env::args().nth(1).unwrap_or_default();
    if let Ok(answer) = reqwest::get(&url).await {
        if let Ok(body) = answer.bytes().await {
            let list: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap_or_default();
            println!("{}", list.len());
        }
    }
}
"#,
        },
        Program {
            name: "facade-async",
            dependencies: format!(
                r#"telphin-records = {{ path = "{facade}", default-features = false, features = ["async", "rustls"] }}
tokio = {{ version = "1", features = ["rt", "macros"] }}"#
            ),
            main: r#"use telphin_records::{ClientBuilder, ClientId, Credentials, Order, QueryWindow, Scope};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let window = QueryWindow::parse("2024-03-01 00:00:00", "2024-03-31 23:59:59");
    let client = ClientBuilder::new(Credentials::access_token("token")).build_async();
    if let (Ok(window), Ok(client)) = (window, client) {
        let list = client.list_window(Scope::client(ClientId::Me), window, Order::Asc).await;
        println!("{}", list.map(|l| l.len()).unwrap_or(0));
    }
}
"#,
        },
    ]
}

/// Writes the program as a crate of its own (outside the workspace) and returns its manifest.
fn write(root: &Path, program: &Program) -> Result<std::path::PathBuf, String> {
    let dir = root.join("target/bench/minimal").join(program.name);
    std::fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
    let manifest = format!(
        "[package]\nname = \"{}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\n{}\n\n[profile.release]\nstrip = true\n\n[workspace]\n",
        program.name, program.dependencies
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("src/main.rs"), program.main).map_err(|e| e.to_string())?;
    Ok(dir.join("Cargo.toml"))
}

/// The packages `cargo tree` lists for normal dependencies, the program itself excluded.
pub(crate) fn packages(manifest: &Path) -> Result<usize, String> {
    let output = Command::new(crate::cargo_path())
        .args([
            "tree", "-e", "normal", "--prefix", "none", "--format", "{p}",
        ])
        .arg("--manifest-path")
        .arg(manifest)
        .output()
        .map_err(|e| format!("cannot run cargo tree: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo tree failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut unique: Vec<String> = text
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some(format!("{} {}", words.next()?, words.next()?))
        })
        .collect();
    unique.sort();
    unique.dedup();
    Ok(unique.len().saturating_sub(1))
}

fn binary_size(root: &Path, manifest: &Path, name: &str) -> Result<u64, String> {
    let target = root.join("target/bench/minimal-target");
    let status = Command::new(crate::cargo_path())
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(manifest)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    if !status.success() {
        return Err(format!("building {name} failed"));
    }
    std::fs::metadata(target.join("release").join(name))
        .map(|meta| meta.len())
        .map_err(|e| format!("{name}: {e}"))
}

/// Package counts and binary sizes of the four programs, and the facade-to-raw ratios.
pub(crate) fn weight(_quick: bool) -> Result<Value, String> {
    let root = crate::root();
    let mut result = json!({});
    for program in programs(&root) {
        let manifest = write(&root, &program)?;
        let packages = packages(&manifest)?;
        let size = binary_size(&root, &manifest, program.name)?;
        result[program.name] = json!({"packages": packages, "binary_bytes": size});
    }
    let ratio = |a: &str, b: &str, key: &str| {
        result[a][key].as_f64().unwrap_or(f64::NAN) / result[b][key].as_f64().unwrap_or(f64::NAN)
    };
    let summary = json!({
        "blocking_package_ratio": ratio("facade-blocking", "raw-ureq", "packages"),
        "async_package_ratio": ratio("facade-async", "raw-reqwest", "packages"),
        "blocking_binary_ratio": ratio("facade-blocking", "raw-ureq", "binary_bytes"),
        "async_binary_ratio": ratio("facade-async", "raw-reqwest", "binary_bytes"),
    });
    if let (Value::Object(into), Value::Object(from)) = (&mut result, summary) {
        into.extend(from);
    }
    Ok(result)
}
