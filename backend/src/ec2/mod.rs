//! Everything that talks to EC2: building the client from the AWS default chain, and its calls.

mod client;
mod error;

pub use client::{Ec2Target, connect, probe};
pub use error::Ec2Error;
