//! Rendering plans: not built yet.
