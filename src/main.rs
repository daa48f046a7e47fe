//! The `chainrule` binary: a thin layer over the library's command line.

use std::process::ExitCode;

/// A large network builds and drops millions of small vectors; mimalloc
/// serves them faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Transparent huge pages make the kernel clear two megabytes wherever
    // the allocator first touches a few bytes of a region: on a large
    // network that doubles the time of some runs and not of others. Small
    // pages keep every run as fast as the best. Nothing is lost when the
    // kernel refuses.
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    chainrule::cli::run(std::env::args_os())
}
