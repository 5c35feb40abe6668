//! The database: connection, migrations, and one file of queries per table.

mod accounts;
mod audit;
mod deliveries;
mod freezes;
mod outputs;
mod runs;
mod schedules;
mod wizard_tokens;

use aws_sdk_ec2::primitives::{DateTime, DateTimeFormat};
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;

pub use accounts::{AdminKept, StoredUser};
pub use audit::{Actor, AuditEvent};
pub(crate) use runs::hostname;
pub use runs::{HEARTBEAT, NewRun};
pub use wizard_tokens::WizardClaim;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the database URL {0:?} is not supported: knit stores its data in SQLite (sqlite:PATH) or \
         PostgreSQL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)"
    )]
    Unsupported(String),
    #[error("cannot open the database {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("cannot bring the database {url} up to date: {source}")]
    Migrate {
        url: String,
        source: sqlx::migrate::MigrateError,
    },
    #[error(transparent)]
    Query(sqlx::Error),
    #[error(
        "knit cannot write to its database: it is read-only or out of space ({0}); nothing was \
         started. Free space or make it writable, then try again"
    )]
    Unwritable(sqlx::Error),
    #[error("cannot encode or decode a stored value: {0}")]
    Encode(serde_json::Error),
    #[error("the database holds {1:?} in {0}, which this knit does not know")]
    Corrupt(&'static str, String),
    #[error("cluster {0} is being started and finished by others at the same time; try again")]
    Contended(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if refuses_writes(&error) {
            Self::Unwritable(error)
        } else {
            Self::Query(error)
        }
    }
}

/// Whether the database refused a write because it is read-only or full: SQLite's
/// SQLITE_READONLY and SQLITE_FULL (of any extended code), PostgreSQL's read-only transaction
/// and insufficient resources (disk full, out of memory).
fn refuses_writes(error: &sqlx::Error) -> bool {
    const SQLITE_READONLY: i32 = 8;
    const SQLITE_FULL: i32 = 13;
    let sqlx::Error::Database(error) = error else {
        return false;
    };
    let code = error.code().unwrap_or_default();
    if let Some(_sqlite) = error.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
        let primary = code.parse::<i32>().unwrap_or_default() & 0xff;
        return primary == SQLITE_READONLY || primary == SQLITE_FULL;
    }
    code == "25006" || code.starts_with("53")
}

/// The same queries run on either database: `$1`-style parameters, `RETURNING`, and times
/// written by knit rather than by the database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
}

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens the database at `url` (an SQLite file is created when missing) and applies
    /// pending migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let (url, migrator) = if url.starts_with("sqlite:") {
            (create_if_missing(url), &SQLITE)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (url.to_owned(), &POSTGRES)
        } else {
            return Err(StoreError::Unsupported(redacted(url)));
        };
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .after_connect(|connection, _| {
                Box::pin(async move {
                    // Readers never wait for the writer; a database's mode outlives connections.
                    if connection.backend_name() == "SQLite" {
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(connection)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|source| StoreError::Open {
                url: redacted(&url),
                source,
            })?;
        migrator
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                url: redacted(&url),
                source,
            })?;
        Ok(Self { pool })
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// SQLite's `mode=rwc` unless the URL chose a mode.
fn create_if_missing(url: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// `url` without its password, for messages and logs.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

/// Now as RFC 3339 UTC with milliseconds, as every stored time is written.
fn now_text() -> String {
    time_text(now_ms())
}

/// `millis` since the Unix epoch as RFC 3339 UTC with milliseconds: such texts sort as times do.
pub fn time_text(millis: i64) -> String {
    let whole_seconds = DateTime::from_secs(millis.div_euclid(1000))
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_default();
    format!(
        "{}.{:03}Z",
        whole_seconds.trim_end_matches('Z'),
        millis.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_a_message() {
        assert_eq!(
            redacted("postgres://knit:s3cret@db.example:5432/knit"),
            "postgres://knit:***@db.example:5432/knit"
        );
        assert_eq!(
            redacted("postgres://knit@db/knit"),
            "postgres://knit@db/knit"
        );
        assert_eq!(
            redacted("sqlite:/var/lib/knit.db"),
            "sqlite:/var/lib/knit.db"
        );
    }

    #[test]
    fn sqlite_files_are_created_unless_the_url_says_otherwise() {
        assert_eq!(create_if_missing("sqlite:/a.db"), "sqlite:/a.db?mode=rwc");
        assert_eq!(
            create_if_missing("sqlite:/a.db?cache=shared"),
            "sqlite:/a.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            create_if_missing("sqlite:/a.db?mode=ro"),
            "sqlite:/a.db?mode=ro"
        );
    }

    #[test]
    fn stored_times_have_milliseconds() {
        let now = now_text();
        assert_eq!(now.len(), "2026-11-23T10:00:00.000Z".len(), "{now}");
        assert!(now.ends_with('Z') && now.as_bytes()[19] == b'.', "{now}");
    }
}
