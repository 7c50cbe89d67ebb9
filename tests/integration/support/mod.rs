//! Fixtures shared by the integration tests: hand-built snapshots ([`snap`]), the render and
//! export helpers ([`render`]) and the sweep helpers ([`sweep`]).

pub mod render;
pub mod snap;
pub mod sweep;
