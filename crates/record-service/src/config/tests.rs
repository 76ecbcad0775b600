//! The configuration's unit tests: parsing, located errors, overrides, profiles.

#![allow(clippy::unwrap_used)]
use super::*;

const MINIMAL: &str = r#"
[service]
interval = "1m"

[[pbx]]
name = "main"
client_id = "app"
client_secret_env = "MAIN_SECRET"
target = "/srv/archive"
catalog = "/srv/main.sqlite"
"#;

fn parse(text: &str, vars: &[(&str, &str)]) -> Result<ServiceConfig, ConfigError> {
    let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    ServiceConfig::parse(text, Path::new("serve.toml"), vars)
}

#[test]
fn defaults_fill_what_is_not_said() {
    let config = parse(MINIMAL, &[]).unwrap();
    assert_eq!(config.service.interval, Duration::from_secs(60));
    assert_eq!(config.service.debounce, Duration::from_secs(2));
    let pbx = &config.pbxs[0];
    assert_eq!(
        (pbx.concurrency, pbx.reserve),
        (8, record_backup::Reserve::Percent(10))
    );
    assert_eq!(
        pbx.scope,
        telphin_records::Scope::client(telphin_records::ClientId::Me)
    );
}

#[test]
fn a_wrong_value_names_its_line_column_and_key() {
    let text = MINIMAL.replace("interval = \"1m\"", "interval = \"soon\"");
    let error = parse(&text, &[]).unwrap_err().to_string();
    assert!(
        error.starts_with("serve.toml:3:12: service.interval: "),
        "{error}"
    );
    assert!(error.contains("not a duration"), "{error}");
    let text = MINIMAL.replace("catalog =", "concurrency = \"many\"\ncatalog =");
    let error = parse(&text, &[]).unwrap_err().to_string();
    assert!(
        error.starts_with("serve.toml:10:15: pbx[0].concurrency: "),
        "{error}"
    );
    let text = MINIMAL.replace("target =", "tagret =");
    let error = parse(&text, &[]).unwrap_err().to_string();
    assert!(error.contains("serve.toml:9:1"), "{error}");
    assert!(error.contains("unknown field `tagret`"), "{error}");
    let error = parse("[service\n", &[]).unwrap_err().to_string();
    assert!(error.starts_with("serve.toml:1:"), "{error}");
}

#[test]
fn checks_name_the_key() {
    let text = MINIMAL.replace("name = \"main\"", "name = \"main office\"");
    let error = parse(&text, &[]).unwrap_err().to_string();
    assert!(error.contains("pbx[0].name"), "{error}");
    let text = MINIMAL.replace("client_secret_env = \"MAIN_SECRET\"", "");
    let error = parse(&text, &[]).unwrap_err().to_string();
    assert!(
        error.contains("pbx[0].client_secret_env") && error.contains("never written"),
        "{error}"
    );
    let text = MINIMAL.replace(
        "catalog =",
        "target_options = { aws_secret_access_key = \"wJalr\" }\ncatalog =",
    );
    let error = parse(&text, &[]).unwrap_err().to_string();
    assert!(
        error.contains("target_options.aws_secret_access_key")
            && error.contains("aws_secret_access_key_env")
            && !error.contains("wJalr"),
        "{error}"
    );
    let text = MINIMAL.replace(
        "catalog =",
        "target_options = { aws_access_key_id = \"AKID\", aws_region = \"x\" }\ncatalog =",
    );
    parse(&text, &[]).unwrap();
    let text = MINIMAL.replace("catalog =", "reserve = \"200%\"\ncatalog =");
    assert!(
        parse(&text, &[])
            .unwrap_err()
            .to_string()
            .contains("pbx[0].reserve")
    );
}

#[test]
fn the_web_page_needs_accounts_off_loopback_and_usable_hashes() {
    let hash = crate::web::hash_password("a-good-long-password").unwrap();
    let config = parse(&format!("{MINIMAL}\n[web]\n"), &[]).unwrap();
    let web = config.web.unwrap();
    assert_eq!(web.listen, SocketAddr::from(([127, 0, 0, 1], 9188)));
    assert!(web.users.is_empty() && config.pbxs[0].sync);
    let open = format!("{MINIMAL}\n[web]\nlisten = \"0.0.0.0:9188\"\n");
    let error = parse(&open, &[]).unwrap_err().to_string();
    assert!(
        error.contains("web.listen") && error.contains("hash-password"),
        "{error}"
    );
    let with_user = format!(
        "{open}\n[[web.user]]\nname = \"anna\"\npassword_hash = \"{hash}\"\ntz = \"Asia/Vladivostok\"\n"
    );
    let config = parse(&with_user, &[]).unwrap();
    let users = &config.web.as_ref().unwrap().users;
    assert_eq!(users[0].name, "anna");
    assert!(
        !format!("{config:?}").contains(&hash),
        "the hash stays out of Debug"
    );
    let plain = with_user.replace(&hash, "hunter2");
    let error = parse(&plain, &[]).unwrap_err().to_string();
    assert!(
        error.contains("web.user[0].password_hash") && !error.contains("hunter2"),
        "{error}"
    );
    let twice = format!("{with_user}\n[[web.user]]\nname = \"anna\"\npassword_hash = \"{hash}\"\n");
    assert!(
        parse(&twice, &[])
            .unwrap_err()
            .to_string()
            .contains("web.user[1].name")
    );
    let zone = with_user.replace("Asia/Vladivostok", "Mars/Olympus");
    assert!(
        parse(&zone, &[])
            .unwrap_err()
            .to_string()
            .contains("web.user[0].tz")
    );
}

#[test]
fn the_environment_overrides_any_key() {
    let config = parse(
        MINIMAL,
        &[
            ("TELPHIN_SERVE_INTERVAL", "10s"),
            ("TELPHIN_PBX_MAIN_CONCURRENCY", "3"),
            ("TELPHIN_PBX_MAIN_TARGET", "/mnt/other"),
            ("UNRELATED", "x"),
        ],
    )
    .unwrap();
    assert_eq!(config.service.interval, Duration::from_secs(10));
    assert_eq!(config.pbxs[0].concurrency, 3);
    assert_eq!(config.pbxs[0].target, "/mnt/other");
    let error = parse(MINIMAL, &[("TELPHIN_PBX_MAIN_CONCURRENCY", "lots")])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("TELPHIN_PBX_MAIN_CONCURRENCY") && error.contains("pbx[0].concurrency"),
        "{error}"
    );
}

#[test]
fn every_secret_bearing_target_option_is_refused_inline() {
    for option in [
        "aws_secret_access_key",
        "aws_session_token",
        "aws_sse_customer_key_base64",
        "google_service_account_key",
        "azure_storage_account_key",
        "azure_storage_sas_key",
        "bearer_token",
        "client_secret",
    ] {
        let text = format!("{MINIMAL}\n[pbx.target_options]\n{option} = \"x\"\n");
        let error = parse(&text, &[]).unwrap_err().to_string();
        assert!(
            error.contains(&format!("target_options.{option}")),
            "{error}"
        );
        assert!(error.contains(&format!("{option}_env")), "{error}");
    }
    for option in [
        "aws_access_key_id",
        "aws_region",
        "aws_sse_kms_key_id",
        "aws_bucket_key_enabled",
        "aws_secret_access_key_file",
    ] {
        let text = format!("{MINIMAL}\n[pbx.target_options]\n{option} = \"x\"\n");
        parse(&text, &[]).unwrap_or_else(|e| panic!("{option}: {e}"));
    }
}

#[test]
fn an_override_that_could_name_two_pbxs_is_refused() {
    let two = |a: &str, b: &str| {
        format!(
            "{MINIMAL}\n[[pbx]]\nname = \"{b}\"\nclient_id = \"app\"\n\
                 client_secret_env = \"B\"\ntarget = \"/srv/b\"\ncatalog = \"/srv/b.sqlite\"\n"
        )
        .replace("name = \"main\"", &format!("name = \"{a}\""))
    };
    for (a, b, variable) in [
        (
            "head-office",
            "head_office",
            "TELPHIN_PBX_HEAD_OFFICE_CONCURRENCY",
        ),
        ("main", "main_b", "TELPHIN_PBX_MAIN_B_CONCURRENCY"),
    ] {
        let error = parse(&two(a, b), &[(variable, "4")])
            .unwrap_err()
            .to_string();
        assert!(error.contains(variable), "{error}");
        assert!(error.contains(a) && error.contains(b), "{error}");
    }
    // One that names one PBX only is taken.
    let config = parse(
        &two("main", "branch"),
        &[("TELPHIN_PBX_BRANCH_CONCURRENCY", "3")],
    )
    .unwrap();
    assert_eq!(config.pbxs[1].concurrency, 3);
}

#[test]
fn the_annotated_example_loads() {
    let text = include_str!("../../../../deploy/telphin-records.toml");
    let config = parse(text, &[]).unwrap();
    assert_eq!(config.pbxs.len(), 2);
}

/// Every broken configuration names the file, `line:column` and the key, and never the
/// value of a secret — whether parsing finds it or reading the secrets later does.
#[test]
fn every_broken_configuration_names_its_file_line_column_and_key() {
    const SECRET: &str = "hunter2-hunter2-hunter2";
    let dir = tempfile::tempdir().unwrap();
    let missing_file = dir.path().join("no-such-secret");
    let short_file = dir.path().join("short-secret");
    std::fs::write(&short_file, "short\n").unwrap();
    let two_pbxs = format!(
        "{MINIMAL}\n[[pbx]]\nname = \"branch\"\nclient_id = \"app\"\n\
         client_secret_env = \"B\"\ntarget = \"/srv/archive/branch\"\ncatalog = \"/srv/b.sqlite\"\n"
    );
    type Later = fn(&ServiceConfig) -> Result<(), ConfigError>;
    let credentials: Later = |config| config.pbxs[0].credentials().map(drop);
    let event_secret: Later = |config| config.pbxs[0].event_secret().map(drop);
    let cases: Vec<(&str, String, Option<Later>, &str)> = vec![
        (
            "bad duration",
            MINIMAL.replace("interval = \"1m\"", "interval = \"soon\""),
            None,
            "3:12: service.interval",
        ),
        (
            "unknown key",
            MINIMAL.replace("target =", "tagret ="),
            None,
            "9:1: pbx[0]",
        ),
        (
            "inline secret in a [[pbx]]",
            MINIMAL.replace(
                "client_secret_env = \"MAIN_SECRET\"",
                &format!("client_secret = \"{SECRET}\""),
            ),
            None,
            "8:1: pbx[0]",
        ),
        (
            "inline secret in target_options",
            MINIMAL.replace(
                "catalog =",
                &format!("target_options = {{ aws_secret_access_key = \"{SECRET}\" }}\ncatalog ="),
            ),
            None,
            "10:20: pbx[0].target_options.aws_secret_access_key",
        ),
        (
            "unset secret variable",
            MINIMAL.replace("MAIN_SECRET", "TELPHIN_TEST_UNSET_SECRET_VARIABLE"),
            Some(credentials),
            "8:1: pbx[0].client_secret_env",
        ),
        (
            "unreadable secret file",
            MINIMAL.replace(
                "client_secret_env = \"MAIN_SECRET\"",
                &format!(
                    "client_secret_file = {:?}",
                    missing_file.display().to_string()
                ),
            ),
            Some(credentials),
            "8:1: pbx[0].client_secret_file",
        ),
        (
            "missing secret key",
            MINIMAL.replace("client_secret_env = \"MAIN_SECRET\"\n", ""),
            None,
            "5:1: pbx[0].client_secret_env",
        ),
        (
            "short event secret",
            MINIMAL.replace(
                "catalog =",
                &format!(
                    "event_secret_file = {:?}\ncatalog =",
                    short_file.display().to_string()
                ),
            ),
            Some(event_secret),
            "10:1: pbx[0].event_secret_file",
        ),
        (
            "unknown time zone",
            MINIMAL.replace("catalog =", "tz = \"Moscow\"\ncatalog ="),
            None,
            "10:6: pbx[0].tz",
        ),
        (
            "bad scope",
            MINIMAL.replace("catalog =", "scope = \"team:4\"\ncatalog ="),
            None,
            "10:9: pbx[0].scope",
        ),
        (
            "bad reserve",
            MINIMAL.replace("catalog =", "reserve = \"200%\"\ncatalog ="),
            None,
            "10:11: pbx[0].reserve",
        ),
        (
            "bad name template",
            MINIMAL.replace("catalog =", "names = \"{yyyy}/{bogus}.mp3\"\ncatalog ="),
            None,
            "10:9: pbx[0].names",
        ),
        ("overlapping targets", two_pbxs, None, "16:1: pbx[1].target"),
    ];
    for (case, text, later, place) in cases {
        let error = match (parse(&text, &[]), later) {
            (Err(error), None) => error,
            (Ok(config), Some(later)) => later(&config).expect_err(case),
            (Ok(_), None) => panic!("{case}: the file was taken"),
            (Err(error), Some(_)) => panic!("{case}: refused while parsing: {error}"),
        };
        let shown = error.to_string();
        assert!(
            shown.starts_with(&format!("serve.toml:{place}")),
            "{case}: {shown}"
        );
        assert!(
            !shown.contains(SECRET) && !shown.contains("short\""),
            "{case}: {shown}"
        );
    }
}

#[test]
fn a_city_written_alone_gets_its_zone_suggested() {
    let text = MINIMAL.replace("catalog =", "tz = \"Moscow\"\ncatalog =");
    let error = parse(&text, &[]).unwrap_err().to_string();
    assert!(error.contains("did you mean Europe/Moscow?"), "{error}");
}

#[test]
fn a_profile_is_chosen_by_name_or_alone() {
    let config = parse(MINIMAL, &[]).unwrap();
    assert_eq!(config.profile(None).unwrap().name, "main");
    assert_eq!(config.profile(Some("main")).unwrap().name, "main");
    let error = config.profile(Some("other")).unwrap_err().to_string();
    assert!(
        error.contains("no [[pbx]] named \"other\"") && error.contains("main"),
        "{error}"
    );
    let two = format!(
        "{MINIMAL}\n[[pbx]]\nname = \"branch\"\nclient_id = \"app\"\n\
         client_secret_env = \"B\"\ntarget = \"/srv/b\"\ncatalog = \"/srv/b.sqlite\"\n"
    );
    let config = parse(&two, &[]).unwrap();
    let error = config.profile(None).unwrap_err().to_string();
    assert!(
        error.contains("name one with --pbx (main, branch)"),
        "{error}"
    );
    assert_eq!(config.profile(Some("branch")).unwrap().name, "branch");
}
