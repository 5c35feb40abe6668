//! Faults that real EC2 produces and moto does not, injected in front of the real SDK client.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_ec2::config::interceptors::BeforeDeserializationInterceptorContextMut;
use aws_sdk_ec2::config::{ConfigBag, Intercept, RuntimeComponents, SharedInterceptor};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

/// Replaces moto's answer to the next `count` calls with an error of EC2's.
#[derive(Debug)]
pub struct InjectedError {
    left: AtomicU32,
    injected: AtomicU32,
    status: u16,
    body: String,
}

impl InjectedError {
    /// EC2's throttling error, for the next `count` calls.
    pub fn throttling(count: u32) -> Arc<Self> {
        Self::error(
            count,
            503,
            "RequestLimitExceeded",
            "Request limit exceeded.",
        )
    }

    /// EC2's answer that it does not know the instance (yet), for the next `count` calls.
    pub fn unknown_instance(count: u32) -> Arc<Self> {
        let message = "The instance ID does not exist";
        Self::error(count, 400, "InvalidInstanceID.NotFound", message)
    }

    fn error(count: u32, status: u16, code: &str, message: &str) -> Arc<Self> {
        Arc::new(Self {
            left: AtomicU32::new(count),
            injected: AtomicU32::new(0),
            status,
            body: format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>\
                 <Code>{code}</Code><Message>{message}</Message></Error></Errors>\
                 <RequestID>injected</RequestID></Response>"
            ),
        })
    }

    /// How many answers were replaced.
    pub fn injected(&self) -> u32 {
        self.injected.load(Ordering::SeqCst)
    }

    pub fn interceptor(self: &Arc<Self>) -> SharedInterceptor {
        SharedInterceptor::new(Shared(Arc::clone(self)))
    }
}

#[derive(Debug)]
struct Shared(Arc<InjectedError>);

impl Intercept for Shared {
    fn name(&self) -> &'static str {
        "InjectedError"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let fault = &self.0;
        let take = fault
            .left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            });
        if take.is_ok() {
            fault.injected.fetch_add(1, Ordering::SeqCst);
            let response = context.response_mut();
            *response.status_mut() = StatusCode::try_from(fault.status).expect("a valid status");
            *response.body_mut() = SdkBody::from(fault.body.as_str());
        }
        Ok(())
    }
}
