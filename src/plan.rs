//! plan: not built yet.
