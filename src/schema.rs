//! schema: not built yet.
