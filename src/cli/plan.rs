//! `reqprune plan`: not built yet.

use super::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Outcome {
    Err(crate::exit::Error::Refused(
        "`plan` is not implemented yet".into(),
    ))
}
