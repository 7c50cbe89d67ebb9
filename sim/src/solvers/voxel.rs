//! voxel solver.
