//! Build script: links the `trib` binary as a position-dependent executable on Linux.
//! A PIE binary of trib's size spends ~0.5 ms of every run in the dynamic loader applying
//! ~7,500 relocations and copying the pages they touch; a 30-node `trib check` takes ~12 ms,
//! so that is a measurable share (benches/check_vs_redis_cli.sh). The heap, the stack and the
//! shared libraries stay randomized; only the executable's own image is at a fixed address.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bin=trib=-no-pie");
    }
}
