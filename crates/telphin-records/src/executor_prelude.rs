//! What both client shells name: the operations' endpoints, the model's types, the engine's
//! vocabulary.

pub(crate) use std::time::Instant;

pub(crate) use record_api::{Endpoint, Error, RetryPolicy};
pub(crate) use record_model::{RateLimit, Record};

pub(crate) use crate::download::{CHUNK_SIZE, DownloadOptions, DownloadReport, DownloadSource};
pub(crate) use crate::engine::{Answer, AuthNeed, Listing};
pub(crate) use crate::handle::Handle;
pub(crate) use crate::list::{ListOptions, ListPosition};
