//! HTTP handlers, one file per resource. Each extracts, calls one domain function, maps the result.

pub mod health;
