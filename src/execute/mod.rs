//! Applying plans: not built yet.
