//! Wire types and validation rules shared by the knit server and the browser console.
//!
//! Everything here compiles for `wasm32-unknown-unknown`: no I/O, no async runtime, no AWS or SSH.

pub mod api;

pub use api::{ApiErrorBody, Health, SandboxHost, SandboxInfo};
