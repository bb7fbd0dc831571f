// The bundled features and policies are embedded with include_dir: rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=../features");
    println!("cargo:rerun-if-changed=../policies/squid");
}
