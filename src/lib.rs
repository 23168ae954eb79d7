//! reqprune: delete Huawei Cloud CodeArts Req work items in bulk, declaratively and safely.
//!
//! The flow reads from the file list. The pure core does no network I/O and writes nothing:
//! `job` (the raw YAML model) → `load` (read job and id files, parse) → `schema` and `check`
//! (diagnostics) → `checked` (a valid `Job`) → `plan` (exact ids per project and batch) →
//! `render` (text, JSON, Markdown). The edges do the I/O: `auth` (credentials and signing),
//! `api` (the CodeArts client), `state` (the journal and its lock), `execute` (apply a plan),
//! `sandbox` (a local stand-in of the service) and `cli` (commands and exit codes).

pub mod api;
pub mod atomic_file;
pub mod auth;
pub mod check;
pub mod checked;
pub mod cli;
pub mod diagnostic;
pub mod discover;
pub mod execute;
pub mod exit;
pub mod fingerprint;
pub mod idfile;
pub mod idset;
pub mod job;
pub mod load;
pub mod plan;
pub mod position;
pub mod render;
pub mod sandbox;
pub mod schema;
pub mod state;
