//! Exit codes a scheduler can act on, and the errors that lead to them.

use std::process::ExitCode;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done.
    Done = 0,
    /// 1: failed.
    Failed = 1,
    /// 2: usage or configuration.
    Usage = 2,
    /// 3: authentication.
    Auth = 3,
    /// 4: rate-limit budget spent; run again later.
    Budget = 4,
    /// 5: finished with some files failed.
    SomeFailed = 5,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// An error with its exit code and message.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            exit: Exit::Usage,
            message: message.into(),
        }
    }

    pub fn failed(message: impl Into<String>) -> Failure {
        Failure {
            exit: Exit::Failed,
            message: message.into(),
        }
    }
}

impl From<telphin_records::Error> for Failure {
    fn from(error: telphin_records::Error) -> Failure {
        use telphin_records::Error;
        let exit = match &error {
            Error::Unauthorized(_) | Error::Forbidden(_) => Exit::Auth,
            Error::InvalidInput(_) | Error::Config(_) | Error::PlainHttpRefused { .. } => {
                Exit::Usage
            }
            Error::RateLimited { .. } => Exit::Budget,
            _ => Exit::Failed,
        };
        Failure {
            exit,
            message: error.to_string(),
        }
    }
}

impl From<record_backup::BackupError> for Failure {
    fn from(error: record_backup::BackupError) -> Failure {
        use record_backup::BackupError;
        match error {
            BackupError::Api(error) => error.into(),
            BackupError::Template { .. }
            | BackupError::TargetConfig(_)
            | BackupError::InvalidInput(_)
            | BackupError::InvalidOption(_) => Failure::usage(error.to_string()),
            BackupError::TargetFailing { .. } => Failure {
                exit: Exit::SomeFailed,
                message: error.to_string(),
            },
            other => Failure::failed(other.to_string()),
        }
    }
}

impl From<telphin_records::ValidationError> for Failure {
    fn from(error: telphin_records::ValidationError) -> Failure {
        Failure::usage(error.to_string())
    }
}
