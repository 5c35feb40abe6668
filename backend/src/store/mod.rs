//! The database: connection, migrations, and one file of queries per table.

mod audit;
mod launches;
mod runs;

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

pub use audit::{AuditEvent, CONSOLE_ACTOR};
pub use launches::LaunchClaim;
pub use runs::{NewRun, now_ms};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the database URL {0:?} is not supported: knit stores its data in SQLite for now (sqlite:PATH)"
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
    Query(#[from] sqlx::Error),
    #[error("cannot encode or decode a stored value: {0}")]
    Encode(serde_json::Error),
    #[error("the database holds {1:?} in {0}, which this knit does not know")]
    Corrupt(&'static str, String),
    #[error("cluster {0} is being started and finished by others at the same time; try again")]
    Contended(String),
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if missing) the database at `url` and applies pending migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::Unsupported(url.to_owned()));
        }
        let open_error = |source| StoreError::Open {
            url: url.to_owned(),
            source,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(open_error)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .connect_with(options)
            .await
            .map_err(open_error)?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                url: url.to_owned(),
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
