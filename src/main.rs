//! The `reqprune` binary: everything lives in the library; see `reqprune::cli`.

fn main() -> std::process::ExitCode {
    reqprune::cli::main()
}
