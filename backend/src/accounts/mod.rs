//! Accounts: who may sign in, with which role, and the sessions and API tokens that stand for
//! them. Every change is audited; secrets are stored only as hashes. Over 400 lines: each
//! change here is a check, the store's call and its audit entry, kept side by side.

mod limiter;
mod password;
mod secret;
mod throttle_notes;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use knit_shared::{CreatedToken, Invalid, LogIn, Me, NewToken, NewUser, Role, TokenList, validate};

use crate::store::{Actor, AdminKept, Store, StoreError, StoredUser, now_ms};
use limiter::LoginLimiter;
use throttle_notes::ThrottleNotes;

pub use secret::{digest, new_secret};

/// The account the sandbox signs in with.
pub const SANDBOX_ADMIN: &str = "admin";

/// Prefix of API tokens, so a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "knit_";

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("wrong account name or password")]
    WrongPassword,
    #[error("give your password again to create a token from the console")]
    PasswordNeeded,
    #[error(
        "too many failed sign-ins for this account or from this address; try again in {} s",
        .0.as_secs().max(1)
    )]
    Throttled(Duration),
    #[error("an account named {0} exists already")]
    NameTaken(String),
    #[error("there is no account named {0}")]
    NoSuchUser(String),
    #[error("there is no API token {0}")]
    NoSuchToken(i64),
    #[error("{0} is the last admin; make another admin first")]
    LastAdmin(String),
    #[error("API token {0} belongs to another account; only an admin may revoke it")]
    NotYours(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a request proves who sends it.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// The secret of a browser's session cookie.
    Session(&'a str),
    /// An API token from `Authorization: Bearer`.
    Token(&'a str),
}

/// How often a live feed looks whether the credential it was opened with still signs anyone in.
pub const FEED_RECHECK: Duration = Duration::from_secs(30);

/// A browser session just begun: the cookie's secret and who it signs in.
#[derive(Debug)]
pub struct NewSession {
    pub secret: String,
    pub me: Me,
    pub lifetime: Duration,
}

#[derive(Debug)]
pub struct Accounts {
    store: Store,
    session_lifetime: Duration,
    /// The most days an API token may live.
    token_max_days: u32,
    limiter: Mutex<LoginLimiter>,
    /// Which throttled sign-ins the audit log is told of.
    throttled: Mutex<ThrottleNotes>,
}

/// The most days an API token may live unless the admin says otherwise.
pub const TOKEN_MAX_DAYS: u32 = 365;

/// Account names longer than this are refused before anything is written (a valid one has
/// at most 64 characters; see `validate::user_name`).
const LONGEST_NAME: usize = 64;

impl Accounts {
    pub fn new(store: Store, session_lifetime: Duration) -> Self {
        Self {
            store,
            session_lifetime,
            token_max_days: TOKEN_MAX_DAYS,
            limiter: Mutex::default(),
            throttled: Mutex::default(),
        }
    }

    /// The same, with API tokens living at most `days`.
    pub fn with_token_max_days(self, days: u32) -> Self {
        Self {
            token_max_days: days,
            ..self
        }
    }

    fn limiter(&self) -> std::sync::MutexGuard<'_, LoginLimiter> {
        self.limiter
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Checks a name and password; on success a new session. Every attempt with a name that
    /// could be an account's is audited, and attempts after too many failures are refused
    /// without checking the password.
    pub async fn log_in(
        &self,
        form: &LogIn,
        address: Option<&str>,
    ) -> Result<NewSession, AccountError> {
        if form.name.chars().count() > LONGEST_NAME {
            return Err(Invalid {
                field: "name",
                message: format!("an account name has at most {LONGEST_NAME} characters"),
            }
            .into());
        }
        let actor = Actor {
            name: form.name.clone(),
            address: address.map(str::to_owned),
        };
        let audit =
            |outcome: &str| actor.did("session.log_in", form.name.clone(), outcome.to_owned());
        let user = match self
            .check_password(&form.name, &form.password, address)
            .await
        {
            Ok(user) => user,
            Err(refused @ AccountError::WrongPassword) => {
                crate::metrics::sign_in_refused("wrong_password");
                self.store
                    .record(&audit(&format!("refused: {}", refusal_note(&refused))))
                    .await?;
                return Err(refused);
            }
            Err(refused @ AccountError::Throttled(_)) => {
                crate::metrics::sign_in_refused("throttled");
                let noted = self
                    .throttled
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .note(address, Instant::now());
                let note = match noted {
                    None => None,
                    Some(0) => Some(format!("refused: {}", refusal_note(&refused))),
                    Some(untold) => Some(format!(
                        "refused: {}; {untold} more from this address since its entry before",
                        refusal_note(&refused)
                    )),
                };
                if let Some(note) = note {
                    self.store.record(&audit(&note)).await?;
                }
                return Err(refused);
            }
            Err(other) => return Err(other),
        };
        let secret = secret::new_secret("");
        let lifetime_ms = i64::try_from(self.session_lifetime.as_millis()).unwrap_or(i64::MAX);
        self.store
            .add_session(
                &digest(&secret),
                &user.name,
                now_ms().saturating_add(lifetime_ms),
            )
            .await?;
        self.store.record(&audit("ok")).await?;
        Ok(NewSession {
            secret,
            me: Me {
                name: user.name,
                role: user.role,
            },
            lifetime: self.session_lifetime,
        })
    }

    /// The account `name` if `password` is its own. A wrong password counts against the
    /// sign-in limits, and after too many the password is not even checked.
    async fn check_password(
        &self,
        name: &str,
        password: &str,
        address: Option<&str>,
    ) -> Result<StoredUser, AccountError> {
        if let Some(wait) = self.limiter().wait(name, address, Instant::now()) {
            return Err(AccountError::Throttled(wait));
        }
        let user = self.store.user(name).await?;
        let password = password.to_owned();
        let stored_hash = user.as_ref().map(|user| user.password_hash.clone());
        // Hashing takes tens of milliseconds of CPU on purpose: not on the async workers.
        let matches = tokio::task::spawn_blocking(move || match stored_hash {
            Some(hash) => password::verify(&password, &hash),
            None => {
                password::verify_nothing(&password);
                false
            }
        })
        .await
        .unwrap_or(false);
        match user.filter(|_| matches) {
            Some(user) => {
                self.limiter().succeeded(name);
                Ok(user)
            }
            None => {
                self.limiter().failed(name, address, Instant::now());
                Err(AccountError::WrongPassword)
            }
        }
    }

    pub async fn log_out(&self, actor: &Actor, session_secret: &str) -> Result<(), AccountError> {
        self.store.remove_session(&digest(session_secret)).await?;
        self.store
            .record(&actor.did("session.log_out", actor.name.clone(), "ok".to_owned()))
            .await?;
        Ok(())
    }

    /// Who `credential` stands for, if anyone: an unknown, revoked or expired secret is no one.
    pub async fn identify(&self, credential: Credential<'_>) -> Result<Option<Me>, StoreError> {
        match credential {
            Credential::Session(secret) => self.store.session_account(&digest(secret)).await,
            Credential::Token(secret) => self.store.token_account(&digest(secret)).await,
        }
    }

    /// Ends once `credential` signs no one in any more (signed out, revoked, expired, or the
    /// account gone), looked at every `FEED_RECHECK`; a live feed opened with it ends then.
    pub async fn signed_out(self: Arc<Self>, credential: Credential<'_>) {
        loop {
            tokio::time::sleep(FEED_RECHECK).await;
            match self.identify(credential).await {
                Ok(Some(_)) => {}
                Ok(None) => return,
                Err(error) => {
                    tracing::warn!(%error, "cannot look whether a live feed's sign-in holds");
                }
            }
        }
    }

    pub async fn add_user(&self, actor: &Actor, user: &NewUser) -> Result<(), AccountError> {
        validate::user_name(&user.name)?;
        validate::password(&user.password)?;
        let hash = hash_off_thread(&user.password).await;
        let added = self.store.add_user(&user.name, user.role, &hash).await?;
        let outcome = if added { "ok" } else { "refused: name taken" };
        self.store
            .record(&actor.did(
                "user.add",
                format!("{} as {}", user.name, user.role),
                outcome.to_owned(),
            ))
            .await?;
        if added {
            Ok(())
        } else {
            Err(AccountError::NameTaken(user.name.clone()))
        }
    }

    pub async fn set_role(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
    ) -> Result<(), AccountError> {
        let kept = self.store.set_role(name, role).await?;
        self.admin_kept(actor, "user.role", format!("{name} to {role}"), name, kept)
            .await
    }

    /// Sets `name`'s password, which also signs that account out everywhere.
    pub async fn set_password(
        &self,
        actor: &Actor,
        name: &str,
        password: &str,
    ) -> Result<(), AccountError> {
        validate::password(password)?;
        let hash = hash_off_thread(password).await;
        if !self.store.set_password(name, &hash).await? {
            return Err(AccountError::NoSuchUser(name.to_owned()));
        }
        self.store
            .record(&actor.did("user.password", name.to_owned(), "ok".to_owned()))
            .await?;
        Ok(())
    }

    pub async fn remove_user(&self, actor: &Actor, name: &str) -> Result<(), AccountError> {
        let kept = self.store.remove_user(name).await?;
        self.admin_kept(actor, "user.remove", name.to_owned(), name, kept)
            .await
    }

    /// Audits a change that had to leave an admin, done or refused, and says how it went.
    async fn admin_kept(
        &self,
        actor: &Actor,
        action: &str,
        target: String,
        name: &str,
        kept: AdminKept,
    ) -> Result<(), AccountError> {
        let (outcome, result) = match kept {
            AdminKept::Done => ("ok", Ok(())),
            AdminKept::NoSuchUser => (
                "refused: no such account",
                Err(AccountError::NoSuchUser(name.to_owned())),
            ),
            AdminKept::LastAdmin => (
                "refused: the last admin",
                Err(AccountError::LastAdmin(name.to_owned())),
            ),
        };
        self.store
            .record(&actor.did(action, target, outcome.to_owned()))
            .await?;
        result
    }

    /// A new API token acting as `user` for `days` (90 when not given); its secret is in the
    /// answer and nowhere else.
    pub async fn create_token(
        &self,
        actor: &Actor,
        user: &str,
        label: &str,
        days: Option<u32>,
    ) -> Result<CreatedToken, AccountError> {
        self.create_token_until(actor, user, label, days, None)
            .await
    }

    /// A new API token asked for with API token `minting` (a script's): it expires no later
    /// than `minting` does, so a token taken cannot be renewed for ever by itself.
    pub async fn create_token_by_token(
        &self,
        actor: &Actor,
        user: &str,
        minting: &str,
        token: &NewToken,
    ) -> Result<CreatedToken, AccountError> {
        let cap = self.store.token_expiry(&digest(minting)).await?;
        self.create_token_until(actor, user, &token.label, token.expires_in_days, cap)
            .await
    }

    async fn create_token_until(
        &self,
        actor: &Actor,
        user: &str,
        label: &str,
        days: Option<u32>,
        latest_ms: Option<i64>,
    ) -> Result<CreatedToken, AccountError> {
        validate::token_label(label)?;
        let days = days.unwrap_or(validate::TOKEN_DAYS.min(self.token_max_days));
        validate::token_days(days, self.token_max_days)?;
        if self.store.user(user).await?.is_none() {
            return Err(AccountError::NoSuchUser(user.to_owned()));
        }
        let token = secret::new_secret(TOKEN_PREFIX);
        let lifetime_ms = i64::from(days) * 24 * 3600 * 1000;
        let expires_at_ms = (now_ms() + lifetime_ms).min(latest_ms.unwrap_or(i64::MAX));
        let (id, expires_at) = self
            .store
            .add_token(user, label, &digest(&token), expires_at_ms)
            .await?;
        self.store
            .record(&actor.did(
                "token.create",
                format!("{id} of {user} ({label}), until {expires_at}"),
                "ok".to_owned(),
            ))
            .await?;
        Ok(CreatedToken {
            id,
            token,
            expires_at,
        })
    }

    /// A new API token asked for by a signed-in browser, which must give the account's
    /// password again: a session taken over cannot mint a token that outlives it.
    pub async fn create_token_in_session(
        &self,
        actor: &Actor,
        me: &Me,
        token: &NewToken,
    ) -> Result<CreatedToken, AccountError> {
        let refused = match token.password.as_deref().filter(|p| !p.is_empty()) {
            None => Some(("no password given", AccountError::PasswordNeeded)),
            Some(password) => match self
                .check_password(&me.name, password, actor.address.as_deref())
                .await
            {
                Ok(_) => None,
                Err(AccountError::WrongPassword) => {
                    Some(("wrong password", AccountError::PasswordNeeded))
                }
                Err(throttled @ AccountError::Throttled(_)) => {
                    Some(("too many failures", throttled))
                }
                Err(other) => return Err(other),
            },
        };
        if let Some((note, error)) = refused {
            let (target, outcome) = (format!("of {}", me.name), format!("refused: {note}"));
            self.store
                .record(&actor.did("token.create", target, outcome))
                .await?;
            return Err(error);
        }
        self.create_token(actor, &me.name, &token.label, token.expires_in_days)
            .await
    }

    /// Tokens `me` may see: all of them for an admin, else their own.
    pub async fn tokens(&self, me: &Me) -> Result<TokenList, AccountError> {
        let user = (me.role != Role::Admin).then_some(me.name.as_str());
        Ok(TokenList {
            tokens: self.store.tokens(user).await?,
        })
    }

    /// Revokes token `id`. Asked by a signed-in account (`by`), its owner or an admin may;
    /// without one (the operator on the server's own machine), anyone may.
    pub async fn revoke_token(
        &self,
        actor: &Actor,
        by: Option<&Me>,
        id: i64,
    ) -> Result<(), AccountError> {
        let Some(owner) = self.store.token_owner(id).await? else {
            return Err(AccountError::NoSuchToken(id));
        };
        if by.is_some_and(|me| owner != me.name && me.role != Role::Admin) {
            return Err(AccountError::NotYours(id));
        }
        self.store.remove_token(id).await?;
        self.store
            .record(&actor.did("token.revoke", format!("{id} of {owner}"), "ok".to_owned()))
            .await?;
        Ok(())
    }
}

impl Accounts {
    /// The sandbox's admin, with a new password each time the sandbox starts: it is printed once
    /// on the console's terminal, and no password is built into knit.
    pub async fn sandbox_admin(&self) -> Result<String, AccountError> {
        let password = secret::new_secret("");
        let hash = hash_off_thread(&password).await;
        if !self
            .store
            .add_user(SANDBOX_ADMIN, Role::Admin, &hash)
            .await?
        {
            self.store.set_role(SANDBOX_ADMIN, Role::Admin).await?;
            self.store.set_password(SANDBOX_ADMIN, &hash).await?;
        }
        Ok(password)
    }
}

/// How a refused sign-in or password check is noted in the audit log.
fn refusal_note(error: &AccountError) -> &'static str {
    match error {
        AccountError::Throttled(_) => "too many failures",
        _ => "wrong name or password",
    }
}

async fn hash_off_thread(password: &str) -> String {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .expect("hashing a password does not panic")
}
