//! The `chainrule` binary: a thin layer over the library's command line.

use std::process::ExitCode;

fn main() -> ExitCode {
    chainrule::cli::run(std::env::args())
}
