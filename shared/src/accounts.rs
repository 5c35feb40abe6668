//! People and scripts that use knit: roles, sign-in, accounts and API tokens.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What someone may do. Each role may do everything the roles before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sees everything, changes nothing.
    Viewer,
    /// Also runs scenarios and starts, stops and reboots instances.
    Deployer,
    /// Also launches and terminates, changes security groups, and manages accounts.
    Admin,
}

impl Role {
    /// Every role, least first.
    pub const ALL: [Self; 3] = [Self::Viewer, Self::Deployer, Self::Admin];

    /// The role's name, as written on the command line and in the API.
    pub fn name(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Deployer => "deployer",
            Self::Admin => "admin",
        }
    }

    /// Whether this role may do what `needed` may.
    pub fn may(self, needed: Self) -> bool {
        self >= needed
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = crate::Invalid;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|role| role.name() == text)
            .ok_or_else(|| crate::Invalid {
                field: "role",
                message: format!("{text:?} is not admin, deployer or viewer"),
            })
    }
}

/// `POST /api/session`: sign in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogIn {
    /// The account's name.
    pub name: String,
    /// Its password.
    pub password: String,
}

/// `GET /api/session`: who is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    /// The account's name.
    pub name: String,
    /// What it may do.
    pub role: Role,
}

/// An account as the Users page lists it; never its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserSummary {
    /// The account's name.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// When it was created, RFC 3339 UTC.
    pub created_at: String,
}

/// `GET /api/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserList {
    /// Every account, by name.
    pub users: Vec<UserSummary>,
}

/// `POST /api/users`: a new account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewUser {
    /// The account's name (see `validate::user_name`).
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Its first password (see `validate::password`).
    pub password: String,
}

/// `PUT /api/users/{name}/role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleChange {
    /// The account's new role.
    pub role: Role,
}

/// An API token as listed; the token itself is shown once, when created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenSummary {
    /// Names the token when revoking it.
    pub id: i64,
    /// The account it acts as.
    pub user: String,
    /// What it is for, as its creator said.
    pub label: String,
    /// When it was created, RFC 3339 UTC.
    pub created_at: String,
    /// When it was last used, RFC 3339 UTC.
    pub last_used_at: Option<String>,
    /// When it stops working, RFC 3339 UTC.
    pub expires_at: String,
}

/// `GET /api/tokens`: an admin sees every token, anyone else their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenList {
    /// Newest first.
    pub tokens: Vec<TokenSummary>,
}

/// `POST /api/tokens`: a token for the signed-in account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewToken {
    /// What it is for, e.g. `ci deploys`.
    pub label: String,
    /// How many days it works (see `validate::token_days`); 90 when not given.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
    /// The account's password again, needed when asked from a browser's session: a session
    /// taken over cannot mint a token that outlives it.
    #[serde(default)]
    pub password: Option<String>,
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    /// Names the token when revoking it.
    pub id: i64,
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// When it stops working, RFC 3339 UTC.
    pub expires_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_may_do_what_the_lesser_roles_may() {
        assert!(Role::Admin.may(Role::Deployer));
        assert!(Role::Deployer.may(Role::Viewer));
        assert!(Role::Deployer.may(Role::Deployer));
        assert!(!Role::Viewer.may(Role::Deployer));
        assert!(!Role::Deployer.may(Role::Admin));
    }

    #[test]
    fn roles_read_back_as_written() {
        for role in Role::ALL {
            assert_eq!(role.name().parse::<Role>(), Ok(role));
            assert_eq!(
                serde_json::to_string(&role).expect("serializes"),
                format!("\"{role}\"")
            );
        }
        assert!("root".parse::<Role>().is_err());
    }
}
