//! `reqprune-sandbox` command line: not built yet.

pub fn main() -> std::process::ExitCode {
    std::process::ExitCode::FAILURE
}
