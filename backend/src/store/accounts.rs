//! Accounts, their browser sessions and their API tokens. Secrets are stored only as hashes.

use knit_shared::{Me, Role, TokenSummary, UserSummary};

use super::{Store, StoreError, now_ms, now_text, time_text};

/// An account as sign-in needs it.
#[derive(Debug, Clone)]
pub struct StoredUser {
    pub name: String,
    pub role: Role,
    pub password_hash: String,
}

/// An account's name and role as read, if a row was found.
fn account(row: Option<(String, String)>) -> Result<Option<Me>, StoreError> {
    row.map(|(name, role)| {
        Ok(Me {
            name,
            role: role_of(&role)?,
        })
    })
    .transpose()
}

/// What a change that must leave an admin did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminKept {
    Done,
    NoSuchUser,
    /// Refused: the account is the last admin.
    LastAdmin,
}

/// Takes the admin lock until the transaction ends (an update that changes nothing still locks:
/// PostgreSQL's row, SQLite's whole database), then counts the admins as they are now.
async fn lock_admins(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
) -> Result<i64, StoreError> {
    sqlx::query("UPDATE admin_lock SET id = id")
        .execute(&mut **transaction)
        .await?;
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users WHERE role = $1")
        .bind(Role::Admin.name())
        .fetch_one(&mut **transaction)
        .await?;
    Ok(count)
}

async fn role_in(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    name: &str,
) -> Result<Option<Role>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as("SELECT role FROM users WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **transaction)
        .await?;
    row.map(|(role,)| role_of(&role)).transpose()
}

fn role_of(text: &str) -> Result<Role, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt("users.role", text.to_owned()))
}

impl Store {
    /// Creates an account; `false` when the name is taken.
    pub async fn add_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(name)
        .bind(role.name())
        .bind(password_hash)
        .bind(now_text())
        .execute(&self.pool)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    pub async fn user(&self, name: &str) -> Result<Option<StoredUser>, StoreError> {
        let row: Option<(String, String, String)> =
            sqlx::query_as("SELECT name, role, password_hash FROM users WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(name, role, password_hash)| {
            Ok(StoredUser {
                name,
                role: role_of(&role)?,
                password_hash,
            })
        })
        .transpose()
    }

    pub async fn users(&self) -> Result<Vec<UserSummary>, StoreError> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT name, role, created_at FROM users ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(name, role, created_at)| {
                Ok(UserSummary {
                    name,
                    role: role_of(&role)?,
                    created_at,
                })
            })
            .collect()
    }

    /// Sets an account's role, unless that would leave no admin. Checked and written in one
    /// transaction under the admin lock, so two demotions at once cannot both pass.
    pub async fn set_role(&self, name: &str, role: Role) -> Result<AdminKept, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let admins = lock_admins(&mut transaction).await?;
        let Some(current) = role_in(&mut transaction, name).await? else {
            return Ok(AdminKept::NoSuchUser);
        };
        if current == Role::Admin && role != Role::Admin && admins <= 1 {
            return Ok(AdminKept::LastAdmin);
        }
        sqlx::query("UPDATE users SET role = $1 WHERE name = $2")
            .bind(role.name())
            .bind(name)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(AdminKept::Done)
    }

    /// Sets an account's password, signs it out everywhere and revokes its API tokens (whoever
    /// knew the old password may have made some); `false` when there is no such account.
    pub async fn set_password(&self, name: &str, password_hash: &str) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let updated = sqlx::query("UPDATE users SET password_hash = $1 WHERE name = $2")
            .bind(password_hash)
            .bind(name)
            .execute(&mut *transaction)
            .await?;
        for delete in [
            "DELETE FROM sessions WHERE user_name = $1",
            "DELETE FROM api_tokens WHERE user_name = $1",
        ] {
            sqlx::query(delete)
                .bind(name)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Removes an account with its sessions and tokens, unless it is the last admin (checked
    /// as `set_role` does).
    pub async fn remove_user(&self, name: &str) -> Result<AdminKept, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let admins = lock_admins(&mut transaction).await?;
        let Some(current) = role_in(&mut transaction, name).await? else {
            return Ok(AdminKept::NoSuchUser);
        };
        if current == Role::Admin && admins <= 1 {
            return Ok(AdminKept::LastAdmin);
        }
        for delete in [
            "DELETE FROM sessions WHERE user_name = $1",
            "DELETE FROM api_tokens WHERE user_name = $1",
            "DELETE FROM users WHERE name = $1",
        ] {
            sqlx::query(delete)
                .bind(name)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(AdminKept::Done)
    }

    pub async fn add_session(
        &self,
        secret_hash: &str,
        user: &str,
        expires_at_ms: i64,
    ) -> Result<(), StoreError> {
        // Sessions past their end are of no use to anyone: sweep them as new ones begin.
        sqlx::query("DELETE FROM sessions WHERE expires_at_ms <= $1")
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (secret_hash, user_name, created_at, expires_at_ms) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(secret_hash)
        .bind(user)
        .bind(now_text())
        .bind(expires_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The account of a session that has not expired.
    pub async fn session_account(&self, secret_hash: &str) -> Result<Option<Me>, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT users.name, users.role FROM sessions JOIN users ON users.name = sessions.user_name \
             WHERE sessions.secret_hash = $1 AND sessions.expires_at_ms > $2",
        )
        .bind(secret_hash)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        account(row)
    }

    pub async fn remove_session(&self, secret_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE secret_hash = $1")
            .bind(secret_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a token of `user` that works until `expires_at_ms`; its id and that time as
    /// text.
    pub async fn add_token(
        &self,
        user: &str,
        label: &str,
        secret_hash: &str,
        expires_at_ms: i64,
    ) -> Result<(i64, String), StoreError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO api_tokens (user_name, label, secret_hash, created_at, expires_at_ms) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user)
        .bind(label)
        .bind(secret_hash)
        .bind(now_text())
        .bind(expires_at_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok((id, time_text(expires_at_ms)))
    }

    /// The account a token that has not expired acts as, noting that it was used. Every request with a token asks
    /// this, so the note is written at most once a minute (and not at all when the database
    /// cannot be written: a read-only database still answers reads).
    pub async fn token_account(&self, secret_hash: &str) -> Result<Option<Me>, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT users.name, users.role FROM api_tokens JOIN users ON users.name = api_tokens.user_name \
             WHERE api_tokens.secret_hash = $1 AND api_tokens.expires_at_ms > $2",
        )
        .bind(secret_hash)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        if row.is_some() {
            let touched = sqlx::query(
                "UPDATE api_tokens SET last_used_at = $1 \
                 WHERE secret_hash = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
            )
            .bind(now_text())
            .bind(secret_hash)
            .bind(time_text(now_ms() - 60_000))
            .execute(&self.pool)
            .await;
            if let Err(error) = touched {
                tracing::warn!(%error, "cannot note when an API token was last used");
            }
        }
        account(row)
    }

    /// When the token of `secret_hash` expires, if it is one.
    pub async fn token_expiry(&self, secret_hash: &str) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT expires_at_ms FROM api_tokens WHERE secret_hash = $1")
                .bind(secret_hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(at,)| at))
    }

    /// Tokens of `user`, or of everyone; newest first.
    pub async fn tokens(&self, user: Option<&str>) -> Result<Vec<TokenSummary>, StoreError> {
        let rows: Vec<(i64, String, String, String, Option<String>, i64)> = sqlx::query_as(
            "SELECT id, user_name, label, created_at, last_used_at, expires_at_ms FROM api_tokens \
             WHERE ($1 IS NULL OR user_name = $1) ORDER BY id DESC",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, user, label, created_at, last_used_at, expires_at_ms)| TokenSummary {
                    id,
                    user,
                    label,
                    created_at,
                    last_used_at,
                    expires_at: time_text(expires_at_ms),
                },
            )
            .collect())
    }

    /// The account token `id` belongs to, if it exists.
    pub async fn token_owner(&self, id: i64) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT user_name FROM api_tokens WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(name,)| name))
    }

    /// Revokes token `id`; `false` when there is no such token.
    pub async fn remove_token(&self, id: i64) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM api_tokens WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() == 1)
    }
}
