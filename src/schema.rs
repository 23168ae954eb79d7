//! The JSON schema of job files, generated from the [`crate::job`] types.
//!
//! `schemas/job.schema.json` is this schema, committed so editors can use it; a test keeps
//! the two equal. The validator is compiled once per process.

use std::sync::OnceLock;

use serde_json::Value;

/// The job-file schema as JSON (draft 2020-12).
pub fn job_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(crate::job::JobFile))
        .expect("a schemars schema is always JSON")
}

/// The schema pretty-printed, with a final newline: the committed file's exact bytes.
pub fn job_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&job_schema()).expect("JSON values serialize");
    text.push('\n');
    text
}

/// The compiled validator, built on first use.
pub fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::validator_for(&job_schema()).expect("the generated schema compiles")
    })
}
