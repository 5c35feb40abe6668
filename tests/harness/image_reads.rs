//! What knit asked of DescribeImages and what it read back, seen by an interceptor in front of
//! the real SDK client: the proof that a search ran in EC2 rather than in knit's memory.

use std::sync::{Arc, Mutex};

use aws_sdk_ec2::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
};
use aws_sdk_ec2::config::{ConfigBag, Intercept, RuntimeComponents, SharedInterceptor};
use aws_sdk_ec2::operation::describe_images::{DescribeImagesInput, DescribeImagesOutput};
use aws_smithy_runtime_api::box_error::BoxError;

/// One DescribeImages page knit requested.
#[derive(Debug, Clone)]
pub struct ImagePage {
    /// Its filters, as `name=value|value`.
    pub filters: Vec<String>,
    pub owners: Vec<String>,
    pub max_results: Option<i32>,
    /// How many images EC2 answered with.
    pub images: usize,
}

#[derive(Debug, Default)]
pub struct ImageReads {
    pages: Mutex<Vec<ImagePage>>,
}

impl ImageReads {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The pages requested since the last call, forgotten.
    pub fn take(&self) -> Vec<ImagePage> {
        std::mem::take(&mut *self.pages.lock().expect("not poisoned"))
    }

    pub fn interceptor(self: &Arc<Self>) -> SharedInterceptor {
        SharedInterceptor::new(Recorder(Arc::clone(self)))
    }
}

#[derive(Debug)]
struct Recorder(Arc<ImageReads>);

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "ImageReads"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(input) = context.input().downcast_ref::<DescribeImagesInput>() else {
            return Ok(());
        };
        let filters = input
            .filters()
            .iter()
            .map(|f| format!("{}={}", f.name().unwrap_or_default(), f.values().join("|")))
            .collect();
        self.0.pages.lock().expect("not poisoned").push(ImagePage {
            filters,
            owners: input.owners().to_vec(),
            max_results: input.max_results(),
            images: 0,
        });
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(output) = context.output_or_error() else {
            return Ok(());
        };
        if let Some(output) = output.downcast_ref::<DescribeImagesOutput>()
            && let Some(page) = self.0.pages.lock().expect("not poisoned").last_mut()
        {
            page.images = output.images().len();
        }
        Ok(())
    }
}
