//! Launches by client token, so a double click or a retried request launches once.

use knit_shared::WizardLaunched;

use super::{Store, StoreError, now_text};

/// Where a client token stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WizardClaim {
    /// First time: this request launches.
    New,
    /// Launched already, with this outcome.
    Done(WizardLaunched),
    /// Another request with the same token is launching right now.
    InFlight,
}

impl Store {
    /// Claims `token` for a launch in `region` by `actor`.
    pub async fn claim_wizard_token(
        &self,
        token: &str,
        actor: &str,
        region: &str,
    ) -> Result<WizardClaim, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO launches (client_token, actor, region, started_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(token)
        .bind(actor)
        .bind(region)
        .bind(now_text())
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(WizardClaim::New);
        }
        let (response,): (Option<String>,) =
            sqlx::query_as("SELECT response FROM launches WHERE client_token = $1")
                .bind(token)
                .fetch_one(&self.pool)
                .await?;
        match response {
            Some(json) => Ok(WizardClaim::Done(
                serde_json::from_str(&json).map_err(StoreError::Encode)?,
            )),
            None => Ok(WizardClaim::InFlight),
        }
    }

    /// Records how the launch of `token` ended; `None` forgets the token (nothing was
    /// launched, so trying again must be possible).
    pub async fn finish_wizard_token(
        &self,
        token: &str,
        response: Option<&WizardLaunched>,
    ) -> Result<(), StoreError> {
        match response {
            Some(response) => {
                let json = serde_json::to_string(response).map_err(StoreError::Encode)?;
                sqlx::query("UPDATE launches SET response = $1 WHERE client_token = $2")
                    .bind(json)
                    .bind(token)
                    .execute(&self.pool)
                    .await?;
            }
            None => {
                sqlx::query("DELETE FROM launches WHERE client_token = $1")
                    .bind(token)
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }
}
