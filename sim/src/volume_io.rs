//! Voxel volume readers and writers (TIFF stack, .npy, raw).
