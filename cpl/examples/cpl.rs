//! The `cpl` commands on their own, until the `proxy-conformance` binary wires them in:
//! `cargo run -p cpl --example cpl -- lint policies/cpl/kb166719-as-published.cpl`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(cpl::run_cli(&args));
}
