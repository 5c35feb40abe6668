//! Faults that real EC2 produces and moto does not, injected in front of the real SDK client.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_ec2::config::interceptors::BeforeDeserializationInterceptorContextMut;
use aws_sdk_ec2::config::{ConfigBag, Intercept, RuntimeComponents, SharedInterceptor};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

/// Replaces moto's answer to the next `count` calls with EC2's throttling error.
#[derive(Debug)]
pub struct Throttle {
    left: AtomicU32,
    injected: AtomicU32,
}

impl Throttle {
    pub fn first(count: u32) -> Arc<Self> {
        Arc::new(Self {
            left: AtomicU32::new(count),
            injected: AtomicU32::new(0),
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
struct Shared(Arc<Throttle>);

const THROTTLED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>\
<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors>\
<RequestID>injected</RequestID></Response>";

impl Intercept for Shared {
    fn name(&self) -> &'static str {
        "Throttle"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let throttle = &self.0;
        let take = throttle
            .left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            });
        if take.is_ok() {
            throttle.injected.fetch_add(1, Ordering::SeqCst);
            let response = context.response_mut();
            *response.status_mut() = StatusCode::try_from(503).expect("a valid status");
            *response.body_mut() = SdkBody::from(THROTTLED);
        }
        Ok(())
    }
}
