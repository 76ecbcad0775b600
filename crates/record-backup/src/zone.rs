//! Time zones as operators write them: IANA names, with a hint for a city written alone.

use chrono_tz::Tz;

/// The IANA time zone `name` (`Europe/Moscow`), case as written. A name that is not one gets
/// an error that suggests the zones whose last part it is (`Moscow` → `Europe/Moscow`).
///
/// ```
/// assert_eq!(record_backup::time_zone("Europe/Moscow")?, chrono_tz::Europe::Moscow);
/// let error = record_backup::time_zone("moscow").unwrap_err();
/// assert!(error.contains("did you mean Europe/Moscow?"), "{error}");
/// # Ok::<(), String>(())
/// ```
pub fn time_zone(name: &str) -> Result<Tz, String> {
    if let Ok(zone) = name.trim().parse::<Tz>() {
        return Ok(zone);
    }
    let wanted = name.trim().replace(' ', "_").to_ascii_lowercase();
    let close: Vec<&str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|zone| zone.name())
        .filter(|zone| {
            let lower = zone.to_ascii_lowercase();
            lower == wanted || lower.rsplit('/').next() == Some(wanted.as_str())
        })
        .take(3)
        .collect();
    let shown = format!(
        "{:?}",
        telphin_records::layers::record_model::quote_prefix(name)
    );
    Err(if close.is_empty() {
        format!("{shown} is not an IANA time zone such as \"Europe/Moscow\"")
    } else {
        format!(
            "{shown} is not an IANA time zone: did you mean {}?",
            close.join(" or ")
        )
    })
}
