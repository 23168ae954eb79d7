//! `reqprune schema`: print the JSON schema of job files (the same bytes as
//! `schemas/job.schema.json`), for editors and other tools.

use std::io::Write;

use super::Outcome;
use crate::exit::{Error, Exit};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Outcome {
    std::io::stdout()
        .lock()
        .write_all(crate::schema::job_schema_text().as_bytes())
        .map_err(|e| Error::io("writing the schema", e))?;
    Ok(Exit::Success)
}
