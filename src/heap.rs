//! The process's heap, kept close to what is live.

/// Gives the heap's free pages back to the system. glibc keeps freed pages for reuse by the
/// thread that freed them, so temporaries leave resident memory behind them: loading the index
/// reads every row into temporaries freed once it is built, each worker builds the OpenAPI
/// document on its way to its routes (about 17 MiB at 100,000 sites together), and a
/// 10,000-item bulk request parses its body into a tree of small blocks (about 10 MiB, on
/// whichever worker it ran). Called once each of those is done; it costs well under a
/// millisecond.
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only hands free memory back to the system, under glibc's own locks.
    unsafe {
        libc::malloc_trim(0);
    }
}
