//! Scenario files: parsing (strict), validation, error reporting with file positions.
pub mod defaults;
pub mod raw;
