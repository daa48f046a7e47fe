//! The `chainrule` binary: a thin layer over the library's command line.

use std::process::ExitCode;

/// Stack for the worker thread: derivations recurse over expression trees,
/// whose depth the parser bounds, and a generous stack keeps that safe.
const STACK_BYTES: usize = 256 * 1024 * 1024;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(move || chainrule::cli::run(args))
        .expect("the worker thread starts")
        .join()
        .unwrap_or(ExitCode::from(101))
}
