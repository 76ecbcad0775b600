//! One home per concept, checked: every SQL statement of `record-backup` lives in
//! `src/catalog/` (and its `catalog.rs`), and so does every `impl Catalog` block; the stages
//! call catalog methods.

use std::path::{Path, PathBuf};

/// Words of SQL, as they appear in a string literal of a statement or a clause.
const SQL: &[&str] = &[
    "SELECT ",
    "INSERT ",
    "DELETE FROM",
    "UPDATE ",
    " SET ",
    " WHERE ",
    "CREATE ",
    " IS NULL",
    "NOT IN (",
    " = ?",
    " < ?",
    " > ?",
    "count(*)",
];

/// Whether a line of code holds SQL in one of its string literals.
fn holds_sql(code: &str) -> bool {
    code.split('"')
        .skip(1)
        .step_by(2)
        .any(|literal| SQL.iter().any(|word| literal.contains(word)))
}

/// The places in `record-backup/src` outside the catalog that hold SQL or an `impl Catalog`,
/// as `path:line: text`.
pub(crate) fn check(root: &Path) -> Result<(), String> {
    let src = root.join("crates/record-backup/src");
    let mut files = Vec::new();
    collect(&src, &mut files).map_err(|e| format!("{}: {e}", src.display()))?;
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap_or(&file);
        if relative.starts_with("catalog") || relative == Path::new("catalog.rs") {
            continue;
        }
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        for (number, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let sql = holds_sql(code);
            let catalog_impl = code.starts_with("impl Catalog {")
                || code.starts_with("impl Catalog<")
                || code.contains("impl crate::catalog::Catalog {");
            if sql || catalog_impl {
                found.push(format!("{}:{}: {}", relative.display(), number + 1, code));
            }
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "SQL or `impl Catalog` outside record-backup/src/catalog/ (move it into a catalog \
             method):\n  {}",
            found.join("\n  ")
        ))
    }
}

fn collect(folder: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    Ok(())
}
