//! Fixtures shared by the integration tests: hand-built snapshots ([`snap`]), the render and
//! export helpers ([`render`]), the sweep helpers ([`sweep`]) and the command line ([`cli`]).

pub mod cli;
pub mod render;
pub mod snap;
pub mod sweep;
