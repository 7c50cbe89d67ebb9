//! Placeholder: the fibril bond law (owned by the tensile helper branch).
