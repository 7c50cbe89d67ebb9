//! Geometry shared by the process and the solvers: the periodic box's minimum-image rule
//! ([`periodic`]), the one uniform cell grid of every neighbour search ([`cell_grid`]), and random
//! non-overlapping sphere packings ([`packing`]). Pure
//! code on vectors and slices: no ECS, no snapshot types.

pub mod cell_grid;
pub mod packing;
pub mod periodic;

pub use cell_grid::CellGrid;
pub use periodic::{min_image, min_image_1d, min_image_delta};
