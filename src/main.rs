//! The `chainrule` binary: a thin layer over the library's command line.

use std::process::ExitCode;

/// A large network builds and drops millions of small vectors; mimalloc
/// serves them faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    chainrule::cli::run(std::env::args_os())
}
