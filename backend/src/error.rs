//! `ApiError`: the one error type of the HTTP layer, answered as the shared JSON error body.
//!
//! Domain modules return their own `thiserror` enums; handlers turn them into `ApiError` with `?`.
//! Internal errors are logged in full and answered with a generic message, so no detail of the
//! server (paths, credentials, stack) reaches the browser.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use knit_shared::{ApiErrorBody, Invalid};

use crate::accounts::AccountError;
use crate::ec2::{Ec2Error, Refusal, ScopeError};
use crate::runs::{
    ApproveError, CancelError, FreezeError, HostsError, RetryError, RunError, StartError,
};
use crate::store::StoreError;
use crate::wizard::{ProgressError, WizardError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Throttled(String),
    #[error("{0}")]
    TooLarge(String),
    /// EC2 could not be reached or refused for a reason of its own.
    #[error("{0}")]
    Upstream(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// The same kind of error, saying `message` instead.
    fn with_message(self, message: String) -> Self {
        match self {
            Self::Invalid(_) => Self::Invalid(message),
            Self::NotFound(_) => Self::NotFound(message),
            Self::MethodNotAllowed(_) => Self::MethodNotAllowed(message),
            Self::Conflict(_) => Self::Conflict(message),
            Self::Unauthorized(_) => Self::Unauthorized(message),
            Self::Forbidden(_) => Self::Forbidden(message),
            Self::Throttled(_) => Self::Throttled(message),
            Self::TooLarge(_) => Self::TooLarge(message),
            Self::Upstream(_) => Self::Upstream(message),
            Self::Unavailable(_) => Self::Unavailable(message),
            Self::Internal(source) => Self::Internal(source),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::Throttled(_) => (StatusCode::TOO_MANY_REQUESTS, "throttled"),
            Self::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            Self::Upstream(_) => (StatusCode::BAD_GATEWAY, "ec2_error"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let error = match &self {
            Self::Internal(source) => {
                tracing::error!(error = format!("{source:#}"), "internal error");
                "knit hit an internal error; the server log has the details".to_owned()
            }
            other => other.to_string(),
        };
        let body = ApiErrorBody {
            error,
            code: code.to_owned(),
        };
        (status, Json(body)).into_response()
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        Self::Invalid(invalid.to_string())
    }
}

impl From<Ec2Error> for ApiError {
    fn from(error: Ec2Error) -> Self {
        let message = error.to_string();
        match error {
            Ec2Error::Refused { refusal, .. } => match refusal {
                Refusal::NotFound => Self::NotFound(message),
                Refusal::Conflict => Self::Conflict(message),
                Refusal::Forbidden => Self::Forbidden(message),
                Refusal::Throttled => Self::Throttled(message),
                Refusal::Invalid => Self::Invalid(message),
                Refusal::Other => Self::Upstream(message),
            },
            Ec2Error::Unreachable { .. } | Ec2Error::Credentials { .. } => Self::Upstream(message),
        }
    }
}

impl From<ScopeError> for ApiError {
    fn from(error: ScopeError) -> Self {
        match error {
            ScopeError::Invalid(invalid) => invalid.into(),
            ScopeError::Ec2(error) => error.into(),
            other => Self::Invalid(other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unwritable(_) => Self::Unavailable(error.to_string()),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<StartError> for ApiError {
    fn from(error: StartError) -> Self {
        let message = error.to_string();
        match error {
            StartError::UnknownCluster { .. } => Self::NotFound(message),
            StartError::NotAnOperator(_) | StartError::RolloutLocked { .. } => {
                Self::Forbidden(message)
            }
            StartError::Plan(_) | StartError::Secret(_) => Self::Invalid(message),
            StartError::Scope(error) => error.into(),
            StartError::Hosts(HostsError::Ec2 { source, .. }) => source.into(),
            StartError::Hosts(_) => Self::Invalid(message),
            StartError::Run(error) => error.into(),
            StartError::Ec2(error) => error.into(),
            StartError::Unreadable(_) => Self::Internal(anyhow::anyhow!(message)),
            StartError::Retry(RetryError::UnknownRun(_)) => Self::NotFound(message),
            StartError::Retry(RetryError::Running(_)) => Self::Conflict(message),
            StartError::Retry(RetryError::Store(error)) => error.into(),
            StartError::Retry(_) | StartError::Unconfirmed(_) => Self::Invalid(message),
        }
    }
}

impl From<crate::runs::schedules::ScheduleError> for ApiError {
    fn from(error: crate::runs::schedules::ScheduleError) -> Self {
        use crate::runs::schedules::ScheduleError;
        match error {
            ScheduleError::Unknown(..) => Self::NotFound(error.to_string()),
            ScheduleError::Store(error) => error.into(),
        }
    }
}

impl From<CancelError> for ApiError {
    fn from(error: CancelError) -> Self {
        let message = error.to_string();
        match error {
            CancelError::NoRun(_) => Self::NotFound(message),
            CancelError::NotAnOperator(_) => Self::Forbidden(message),
            CancelError::NotRunning { .. } | CancelError::Launch(_) => Self::Conflict(message),
            CancelError::Store(error) => error.into(),
        }
    }
}

impl From<WizardError> for ApiError {
    fn from(error: WizardError) -> Self {
        let message = error.to_string();
        match error {
            WizardError::Invalid(_)
            | WizardError::UnknownImage(..)
            | WizardError::UnknownType(..)
            | WizardError::Mismatch { .. }
            | WizardError::UnknownSubnet(..)
            | WizardError::NoDefaultVpc(_)
            | WizardError::GroupElsewhere { .. } => Self::Invalid(message),
            WizardError::InFlight => Self::Conflict(message),
            WizardError::Unprotected { .. } => Self::Upstream(message),
            WizardError::DryRun(source) | WizardError::Failed { source, .. } => {
                match Self::from(source) {
                    Self::Internal(inner) => Self::Internal(inner),
                    same_kind => same_kind.with_message(message),
                }
            }
            WizardError::Scope(error) => error.into(),
            WizardError::Ec2(error) => error.into(),
            WizardError::Store(error) => error.into(),
        }
    }
}

impl From<ProgressError> for ApiError {
    fn from(error: ProgressError) -> Self {
        match error {
            ProgressError::Invalid(invalid) => invalid.into(),
            ProgressError::Scope(error) => error.into(),
        }
    }
}

impl From<ApproveError> for ApiError {
    fn from(error: ApproveError) -> Self {
        let message = error.to_string();
        match error {
            ApproveError::NoRun(_) => Self::NotFound(message),
            ApproveError::NotAwaiting { .. } => Self::Conflict(message),
            ApproveError::NotAnApprover { .. } | ApproveError::OwnRun(_) => {
                Self::Forbidden(message)
            }
            ApproveError::Definition(_) => Self::Invalid(message),
            ApproveError::Store(error) => error.into(),
        }
    }
}

impl From<FreezeError> for ApiError {
    fn from(error: FreezeError) -> Self {
        let message = error.to_string();
        match error {
            FreezeError::Cluster(error) => error.into(),
            FreezeError::NotAllowed { .. } => Self::Forbidden(message),
            FreezeError::NoMessage => Self::Invalid(message),
            FreezeError::Store(error) => error.into(),
        }
    }
}

impl From<RunError> for ApiError {
    fn from(error: RunError) -> Self {
        match error {
            RunError::Locked(_) | RunError::Frozen { .. } => Self::Conflict(error.to_string()),
            RunError::LineFull { .. } => Self::Throttled(error.to_string()),
            RunError::TooManyFiles { .. } => Self::Invalid(error.to_string()),
            RunError::Store(error) => error.into(),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        let message = error.to_string();
        match error {
            AccountError::Invalid(invalid) => invalid.into(),
            AccountError::WrongPassword => Self::Unauthorized(message),
            AccountError::Throttled(_) => Self::Throttled(message),
            AccountError::NameTaken(_) | AccountError::LastAdmin(_) => Self::Conflict(message),
            AccountError::NoSuchUser(_) | AccountError::NoSuchToken(_) => Self::NotFound(message),
            AccountError::NotYours(_) | AccountError::PasswordNeeded => Self::Forbidden(message),
            AccountError::Store(error) => error.into(),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        Self::Invalid(format!(
            "the request body is not what this route takes: {}",
            rejection.body_text()
        ))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::Invalid(format!(
            "the query string is not what this route takes: {}",
            rejection.body_text()
        ))
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::Invalid(format!(
            "the path is not what this route takes: {}",
            rejection.body_text()
        ))
    }
}
