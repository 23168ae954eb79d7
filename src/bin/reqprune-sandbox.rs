//! The `reqprune-sandbox` binary: a local stand-in of CodeArts Req; see `reqprune::sandbox`.

fn main() -> std::process::ExitCode {
    reqprune::sandbox::cli::main()
}
