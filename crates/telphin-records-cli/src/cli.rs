//! The command line: global options, scope, periods and the subcommands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands::{
    archive, audit, backup, completions, delete, download, erase, hold, link, list, monthly,
    password, purge, retention, search, serve, sim, stats, verify,
};

const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  failed (the message says why)
  2  usage or configuration error
  3  authentication failed (credentials, token, access type)
  4  rate-limit budget spent: run the same command again later to resume
  5  finished, but some files failed or were found missing (see the catalog's last_error)

Settings come from --config FILE.toml (the operator's configuration, the file serve reads:
a [[pbx]] profile per PBX, chosen with --pbx NAME; docs/configuration.md), and from the
environment, which overrides it:
  TELPHIN_CLIENT_ID, TELPHIN_CLIENT_SECRET   an API application (access type \"All\")
  TELPHIN_USERNAME, TELPHIN_PASSWORD         with the above: the password grant
  TELPHIN_TOKEN                              an access token instead
  TELPHIN_BASE_URL                           another API address (default: Telphin's)
  TELPHIN_ALLOW_INSECURE_HTTP=1              plain http to a test server off loopback
  TELPHIN_CONFIG, TELPHIN_PBX                --config and --pbx
  RUST_LOG                                   log filter (e.g. debug), over -q/-v
Secrets are never taken as arguments and never printed. --sandbox needs none of them.";

/// Call recordings of a Telphin PBX: list, download, back up, verify, search and purge.
#[derive(Debug, Parser)]
#[command(name = "telphin-records", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The options every command takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Run against a simulated PBX started inside this process: no account needed.
    #[arg(long, global = true, help_heading = "Global options")]
    pub sandbox: bool,
    /// The operator's configuration (TOML, docs/configuration.md): the file `serve` reads,
    /// whose `[[pbx]]` profiles give every command its credentials, target, catalog, time zone
    /// and policy. Flags and TELPHIN_* variables override it. (A file of TELPHIN_* lines is
    /// still read, with a warning.)
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "FILE",
        env = "TELPHIN_CONFIG",
        hide_env_values = true
    )]
    pub config: Option<PathBuf>,
    /// The `[[pbx]]` profile of --config to run with (needed when the file has several).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "NAME",
        env = "TELPHIN_PBX",
        hide_env_values = true
    )]
    pub pbx: Option<String>,
    /// How records and figures are printed: a table sized to the terminal (human sizes and
    /// durations), or exact values as JSON, JSON Lines or CSV.
    #[arg(long, global = true, help_heading = "Global options", value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// The time zone of the dates you give and of the times printed (an IANA name; default:
    /// the profile's, else UTC).
    #[arg(
        long = "tz",
        global = true,
        help_heading = "Global options",
        value_name = "ZONE",
        value_parser = record_backup::time_zone
    )]
    pub tz_flag: Option<chrono_tz::Tz>,
    /// The time zone in force: --tz, else the profile's, else UTC (set once the settings are
    /// read).
    #[arg(skip = chrono_tz::Tz::UTC)]
    pub tz: chrono_tz::Tz,
    /// Fewer log lines: errors and warnings only.
    #[arg(
        short,
        long,
        global = true,
        help_heading = "Global options",
        conflicts_with = "verbose"
    )]
    pub quiet: bool,
    /// More log lines: -v for debug, -vv for trace (of this tool's own crates; RUST_LOG
    /// overrides both).
    #[arg(short, long, global = true, help_heading = "Global options", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log lines on stderr as text or as JSON (for log collectors).
    #[arg(long, global = true, help_heading = "Global options", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Whose recordings: the client (the whole PBX; "@me" is yours). Default: the profile's
    /// scope, else @me.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "ID"
    )]
    pub client: Option<String>,
    /// Whose recordings: one extension group.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "ID",
        conflicts_with = "extension"
    )]
    pub group: Option<u64>,
    /// Whose recordings: one extension.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "ID"
    )]
    pub extension: Option<u64>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Columns that fit the terminal.
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header.
    Csv,
}

/// Log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// A period, in the words people use; dates are read in `--tz`.
#[derive(Debug, Clone, Default, Args)]
pub struct PeriodArgs {
    /// One day, e.g. 2024-03-05.
    #[arg(long, value_name = "DATE", group = "period")]
    pub day: Option<String>,
    /// One month, e.g. 2024-03.
    #[arg(long, value_name = "YYYY-MM", group = "period")]
    pub month: Option<String>,
    /// One year, e.g. 2024.
    #[arg(long, value_name = "YYYY", group = "period")]
    pub year: Option<i32>,
    /// From this date or time (included), e.g. 2024-03-05 or "2024-03-05 08:00:00".
    #[arg(long, value_name = "WHEN", requires = "until", conflicts_with_all = ["day", "month", "year"])]
    pub from: Option<String>,
    /// Until this date or time (excluded).
    #[arg(long, value_name = "WHEN", requires = "from")]
    pub until: Option<String>,
}

/// Where a backup is kept, and its catalog.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// The backup target: a directory, or a URL such as s3://bucket/prefix (S3 credentials and
    /// region from AWS_* variables; an S3-compatible store with AWS_ENDPOINT). Default: the
    /// profile's target and its options.
    #[arg(
        long,
        value_name = "DIR|URL",
        env = "TELPHIN_BACKUP_TARGET",
        hide_env_values = true
    )]
    pub to: Option<String>,
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

/// The catalog of a backup.
#[derive(Debug, Clone, Args)]
pub struct CatalogArgs {
    /// The catalog (a SQLite file, created owner-only). Default: the profile's, else
    /// telphin-records.sqlite.
    #[arg(
        long = "catalog",
        id = "catalog",
        value_name = "FILE",
        env = "TELPHIN_CATALOG",
        hide_env_values = true
    )]
    pub file: Option<PathBuf>,
}

/// The subcommands; each is a module of `commands` with its arguments and its handler.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the recordings of a period.
    #[command(after_help = "Examples:\n  \
        telphin-records list --month 2024-03 --tz Europe/Moscow --format csv > march.csv\n  \
        telphin-records list --year 2024 --format jsonl | gzip > 2024.jsonl.gz\n\n\
        Records are printed as they arrive: a year of a call centre streams in constant memory.")]
    List(list::ListArgs),
    /// Count the recordings of a period and their total size.
    #[command(after_help = "Example:\n  telphin-records stats --year 2024")]
    Stats(stats::StatsArgs),
    /// Storage used per month (client level).
    #[command(after_help = "Example:\n  telphin-records monthly --until 2024-12")]
    Monthly(monthly::MonthlyArgs),
    /// Download recordings by their uuid into a directory (verified, never partial).
    #[command(
        after_help = "Example:\n  telphin-records download 30-624835FEEE0E11E6A19D331E4D6A0606 --to ./calls"
    )]
    Download(download::DownloadArgs),
    /// Print a recording's permanent storage link (a secret: anyone with it can download).
    #[command(after_help = "Example:\n  telphin-records link 30-624835FEEE0E11E6A19D331E4D6A0606")]
    Link(link::LinkArgs),
    /// Delete one recording from the PBX (asks for --yes).
    #[command(
        after_help = "Example:\n  telphin-records delete 30-624835FEEE0E11E6A19D331E4D6A0606 --yes"
    )]
    Delete(delete::DeleteArgs),
    /// Have the PBX e-mail an archive of a period's files (client level).
    #[command(
        after_help = "Example:\n  telphin-records archive --day 2024-03-05 --email ops@example.com"
    )]
    Archive(archive::ArchiveArgs),
    /// Back up a period's recordings to a directory or bucket, with a catalog; resumable.
    #[command(
        after_help = "Examples:\n  telphin-records backup --month 2024-03 --to ./backup\n  \
        telphin-records backup --year 2024 --to s3://call-archive/pbx --tz Europe/Moscow --reserve 20%\n\n\
        A rerun transfers nothing already kept. Exit code 4: the rate-limit budget is spent;\n\
        run the same command again after the time it prints."
    )]
    Backup(backup::BackupArgs),
    /// Read kept files back and compare them with the catalog (no API request).
    #[command(after_help = "Example:\n  telphin-records verify --to ./backup")]
    Verify(verify::VerifyArgs),
    /// Delete from the PBX the verified recordings older than a cutoff; a dry run without --yes.
    #[command(
        after_help = "Examples:\n  telphin-records purge --older-than 180d --to ./backup\n  \
        telphin-records purge --older-than 2024-04-01 --to ./backup --yes --max 500\n\n\
        Only records kept in the target and verified since (telphin-records verify) are deleted,\n\
        one at a time; without --yes it lists what would go and deletes nothing."
    )]
    Purge(purge::PurgeArgs),
    /// Search the catalog: by period, phone number, extension, flow, result, duration, state.
    #[command(
        after_help = "Examples:\n  telphin-records search --number \"+7 495 123-45-67\" --min-duration 60 --month 2024-03\n  \
        telphin-records search --number 4567 --desc --limit 20\n\n\
        The catalog is read page by page through its indexes: the first matches print at once,\n\
        whatever its size."
    )]
    Search(search::SearchArgs),
    /// Apply the retention policy of the service's configuration: purge the PBX, destroy
    /// what the archive keeps no longer; a dry run without --yes.
    #[command(after_help = "Examples:\n  \
        telphin-records --config /etc/telphin-records/config.toml --pbx main retention\n  \
        telphin-records --config config.toml --pbx main retention --yes\n\n\
        Periods end at midnight in the policy's time zone. Held recordings are left; every\n\
        deletion is written to the audit log, and destroyed records to a deletion act.")]
    Retention(retention::RetentionArgs),
    /// Legal holds: while one covers a recording, it is never purged, expired or erased.
    #[command(after_help = "Examples:\n  \
        telphin-records hold add --number \"+7 495 123-45-67\" --reason \"claim 2024/17\" --to ./backup\n  \
        telphin-records hold list\n  \
        telphin-records hold release 3 --to ./backup\n\n\
        Every change is written to the audit log.")]
    Hold(hold::HoldArgs),
    /// Erase a person's data: every recording of their number, everywhere, with a deletion
    /// act; a dry run without --yes.
    #[command(after_help = "Examples:\n  \
        telphin-records erase --number \"+7 495 123-45-67\" --reason \"request 2026/31\" --to ./backup\n  \
        TELPHIN_ERASURE_KEY_FILE=/etc/telphin-records/erasure-key telphin-records erase --number 84951234567 --reason \"request 2026/31\" --to ./backup --yes\n\n\
        A recording under a legal hold is not erased; the act lists it with the hold's reason\n\
        (exit code 5). The act is kept in the catalog before the first recording goes; its\n\
        files (JSON and CSV) go to --act-dir and the target's _acts/ — if the run is killed,\n\
        the next run that opens the catalog writes them.")]
    Erase(erase::EraseArgs),
    /// The audit log of every destructive action: verify its hash chain, export a period.
    #[command(after_help = "Examples:\n  \
        telphin-records audit verify --to ./backup\n  \
        telphin-records audit export --from 2026-01-01 --until 2026-07-01 > audit-h1.jsonl")]
    Audit(audit::AuditArgs),
    /// Keep the archive in step with the PBX (or several) as a service: syncs, event
    /// callbacks, /healthz, /readyz and /metrics. --config names its TOML configuration.
    #[command(
        after_help = "Examples:\n  telphin-records serve --config /etc/telphin-records/serve.toml\n  \
        telphin-records serve --config serve.toml --check-config\n\n\
        Every key of the configuration is described in docs/configuration.md; secrets come from the\n\
        environment or from files. SIGTERM or Ctrl-C stops it: files in flight are abandoned,\n\
        nothing partial is left, and the next start resumes."
    )]
    Serve(serve::ServeArgs),
    /// Print the argon2id hash of a web account's password, for a [[web.user]] of serve's
    /// configuration. The password is asked twice on a terminal, or read from standard input.
    #[command(
        name = "hash-password",
        after_help = "Examples:\n  telphin-records hash-password\n  \
        printf '%s\\n' \"$PASSWORD\" | telphin-records hash-password\n\n\
        Put the line it prints in serve's configuration:\n  \
        [[web.user]]\n  name = \"anna\"\n  password_hash = \"$argon2id$v=19$...\""
    )]
    HashPassword(password::HashPasswordArgs),
    /// Print the completions script of a shell (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Example:\n  telphin-records completions bash > /etc/bash_completion.d/telphin-records"
    )]
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff).
    #[command(
        after_help = "Examples:\n  telphin-records manpage > /usr/share/man/man1/telphin-records.1\n  \
        telphin-records manpage --dir /usr/share/man/man1   # every subcommand's page too"
    )]
    Manpage(completions::ManpageArgs),
    /// Serve a simulated PBX over HTTP and print its address and credentials as JSON.
    #[command(after_help = "Example:\n  telphin-records sim --addr 127.0.0.1:18080")]
    Sim(sim::SimArgs),
}
