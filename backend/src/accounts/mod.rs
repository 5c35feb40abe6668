//! Accounts: who may sign in, with which role, and the sessions and API tokens that stand for
//! them. Every change is audited; secrets are stored only as hashes.

mod limiter;
mod password;
mod secret;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use knit_shared::{CreatedToken, Invalid, LogIn, Me, NewUser, Role, TokenList, validate};

use crate::store::{Actor, Store, StoreError, now_ms};
use limiter::LoginLimiter;

pub use secret::digest;

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
    limiter: Mutex<LoginLimiter>,
}

impl Accounts {
    pub fn new(store: Store, session_lifetime: Duration) -> Self {
        Self {
            store,
            session_lifetime,
            limiter: Mutex::default(),
        }
    }

    fn limiter(&self) -> std::sync::MutexGuard<'_, LoginLimiter> {
        self.limiter
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Checks a name and password; on success a new session. Every attempt is audited, and
    /// attempts after too many failures are refused without checking the password.
    pub async fn log_in(
        &self,
        form: &LogIn,
        address: Option<&str>,
    ) -> Result<NewSession, AccountError> {
        let actor = Actor {
            name: form.name.clone(),
            address: address.map(str::to_owned),
        };
        let audit =
            |outcome: &str| actor.did("session.log_in", form.name.clone(), outcome.to_owned());
        let wait = self.limiter().wait(&form.name, address, Instant::now());
        if let Some(wait) = wait {
            self.store
                .record(&audit("refused: too many failures"))
                .await?;
            return Err(AccountError::Throttled(wait));
        }
        let user = self.store.user(&form.name).await?;
        let password = form.password.clone();
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
        let Some(user) = user.filter(|_| matches) else {
            self.limiter().failed(&form.name, address, Instant::now());
            self.store
                .record(&audit("refused: wrong name or password"))
                .await?;
            return Err(AccountError::WrongPassword);
        };
        self.limiter().succeeded(&form.name);
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
        self.keep_an_admin(name, Some(role)).await?;
        if !self.store.set_role(name, role).await? {
            return Err(AccountError::NoSuchUser(name.to_owned()));
        }
        self.store
            .record(&actor.did("user.role", format!("{name} to {role}"), "ok".to_owned()))
            .await?;
        Ok(())
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
        self.keep_an_admin(name, None).await?;
        if !self.store.remove_user(name).await? {
            return Err(AccountError::NoSuchUser(name.to_owned()));
        }
        self.store
            .record(&actor.did("user.remove", name.to_owned(), "ok".to_owned()))
            .await?;
        Ok(())
    }

    /// Refuses a change that would leave no admin: `name` becoming `role` (or removed).
    async fn keep_an_admin(&self, name: &str, role: Option<Role>) -> Result<(), AccountError> {
        let Some(user) = self.store.user(name).await? else {
            return Err(AccountError::NoSuchUser(name.to_owned()));
        };
        let demoted = user.role == Role::Admin && role != Some(Role::Admin);
        if demoted && self.store.count_role(Role::Admin).await? <= 1 {
            return Err(AccountError::LastAdmin(name.to_owned()));
        }
        Ok(())
    }

    /// A new API token acting as `user`; its secret is in the answer and nowhere else.
    pub async fn create_token(
        &self,
        actor: &Actor,
        user: &str,
        label: &str,
    ) -> Result<CreatedToken, AccountError> {
        validate::token_label(label)?;
        if self.store.user(user).await?.is_none() {
            return Err(AccountError::NoSuchUser(user.to_owned()));
        }
        let token = secret::new_secret(TOKEN_PREFIX);
        let id = self.store.add_token(user, label, &digest(&token)).await?;
        self.store
            .record(&actor.did(
                "token.create",
                format!("{id} of {user} ({label})"),
                "ok".to_owned(),
            ))
            .await?;
        Ok(CreatedToken { id, token })
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

async fn hash_off_thread(password: &str) -> String {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .expect("hashing a password does not panic")
}
