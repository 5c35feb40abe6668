//! EC2 calls counted for knit's metrics: by operation and outcome, with how long each took
//! (retries included), seen by an interceptor on every client knit makes.

use std::time::Instant;

use aws_sdk_ec2::config::interceptors::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_ec2::config::{ConfigBag, Intercept, RuntimeComponents, SharedInterceptor};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::{Storable, StoreReplace};

/// The interceptor to add to an EC2 client.
pub fn interceptor() -> SharedInterceptor {
    SharedInterceptor::new(Counted)
}

#[derive(Debug)]
struct Counted;

/// When a call began, kept with the call.
#[derive(Debug, Clone)]
struct Began(Instant);

impl Storable for Began {
    type Storer = StoreReplace<Self>;
}

impl Intercept for Counted {
    fn name(&self) -> &'static str {
        "KnitMetrics"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Began(Instant::now()));
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map_or_else(
            || "unknown".to_owned(),
            |metadata| metadata.name().to_owned(),
        );
        let outcome = match context.output_or_error() {
            Some(Ok(_)) => "ok",
            _ => "error",
        };
        let took = cfg
            .load::<Began>()
            .map(|began| began.0.elapsed())
            .unwrap_or_default();
        crate::metrics::ec2_call(&operation, outcome, took);
        Ok(())
    }
}
