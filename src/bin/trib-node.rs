//! The `trib-node` binary: redis-server's command line in, a cluster node out. All logic is in
//! `trib::node`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(trib::node::main_entry(args));
}
