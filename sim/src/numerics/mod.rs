//! Numerical building blocks shared by the solvers: disjoint sets with periodic shifts
//! ([`union_find`]) and preconditioned conjugate gradients ([`krylov`]). Pure code on slices: no
//! ECS, no snapshot types.

pub mod krylov;
pub mod union_find;

pub use krylov::{pcg, Jacobi, PcgOutcome, PcgStop, Preconditioner, SpdOperator};
pub use union_find::UnionFind;
