//! Cross-section images and 3D exports.
