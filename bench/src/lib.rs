//! The measuring code behind `cargo xtask bench`, shared by its two programs: `telphin-bench`
//! (the SDK next to raw HTTP code) and `telphin-bench-backup` (`record-backup`, kept apart so
//! that its code does not weigh on the memory figures of the SDK).

pub mod callcentre;
pub mod decode;
pub mod measure;
pub mod memory;
pub mod net;
