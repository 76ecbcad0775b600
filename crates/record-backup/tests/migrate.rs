//! A catalog written by the previous release (schema 1: `telphin-records --sandbox backup` of
//! January 2024, `verify` of its first half, `purge --yes` of its first week; storage links
//! removed) opens, migrates to the number index, and is searched as a new one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use record_backup::{Catalog, CatalogEntry, SearchQuery, Status};

fn all(catalog: &Catalog, query: &SearchQuery) -> Vec<CatalogEntry> {
    let pages: Result<Vec<Vec<CatalogEntry>>, _> = catalog.search(query).unwrap().collect();
    pages.unwrap().concat()
}

#[test]
fn a_catalog_of_the_previous_release_migrates_and_is_searched_by_its_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");
    std::fs::copy("tests/fixtures/catalog-v1.sqlite", &path).unwrap();

    let catalog = Catalog::open(&path).unwrap();
    let everything = all(&catalog, &SearchQuery::default());
    assert_eq!(everything.len(), 90);
    let count = |status| {
        catalog
            .search(&SearchQuery::default().status(status))
            .unwrap()
            .total()
            .unwrap()
    };
    // The states the old release wrote read the same through the new conditions.
    assert_eq!(count(Status::OffPbx), 15);
    assert_eq!(count(Status::Verified), 13);
    assert_eq!(count(Status::Kept), 62);
    assert_eq!(
        count(Status::Pending) + count(Status::Failed) + count(Status::Lost),
        0
    );

    // Every record is found by its caller's number, whole and by its last five digits, through
    // the number index the migration filled.
    let digits_of = |entry: &CatalogEntry| -> String {
        let number = entry.record.from_username.clone().unwrap_or_default();
        number.chars().filter(char::is_ascii_digit).collect()
    };
    let callers: Vec<&CatalogEntry> = everything
        .iter()
        .filter(|e| digits_of(e).len() >= 10)
        .collect();
    assert!(callers.len() >= 20, "{}", callers.len());
    for entry in callers.iter().step_by(5) {
        let digits = digits_of(entry);
        for wanted in [digits.as_str(), &digits[digits.len() - 5..]] {
            let query = SearchQuery::default().number(wanted);
            let found = all(&catalog, &query);
            assert!(
                found
                    .iter()
                    .any(|e| e.record.record_uuid == entry.record.record_uuid),
                "{wanted}"
            );
            let plan = catalog.search(&query).unwrap().query_plan().unwrap();
            assert!(plan.contains("record_number"), "{plan}");
        }
    }
    drop(catalog);
    // Opening it again changes nothing.
    let again = Catalog::open(&path).unwrap();
    assert_eq!(all(&again, &SearchQuery::default()), everything);
}
