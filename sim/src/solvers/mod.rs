//! Property solvers on snapshots (outside the ECS).
pub mod continuity;
pub mod network;
pub mod tensile;
pub mod voxel;
