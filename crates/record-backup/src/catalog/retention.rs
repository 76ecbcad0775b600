//! The retention policy's side of the catalog: what is past a cutoff, held or not.

use chrono::{DateTime, Utc};

use super::{Catalog, Conditions, PURGEABLE, held, not_held};
use crate::error::BackupError;

/// Which records past a cutoff [`Catalog::count_past`] counts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Past {
    /// Held, and verified and still on the PBX (what purge leaves because of a hold).
    HeldOnPbx,
    /// Held (what expiry leaves).
    Held,
    /// Not held (what expiry destroys).
    NotHeld,
}

impl Catalog {
    /// How many records of `selection` that started before `cutoff` are `which`.
    pub(crate) fn count_past(
        &self,
        selection: &Conditions,
        cutoff: DateTime<Utc>,
        which: Past,
    ) -> Result<u64, BackupError> {
        let mut conditions = selection.clone();
        conditions.started_before(cutoff);
        let now = Utc::now();
        match which {
            Past::HeldOnPbx => {
                conditions.push(PURGEABLE, []);
                held(&mut conditions, now);
            }
            Past::Held => held(&mut conditions, now),
            Past::NotHeld => not_held(&mut conditions, now),
        }
        self.count_of(
            &format!("SELECT count(*) FROM record WHERE {}", conditions.clause()),
            &conditions,
        )
    }
}
