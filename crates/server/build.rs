//! Rebuilds when the dashboard's built files change: `include_dir!` embeds `ui/dist` at compile time.

fn main() {
    println!("cargo:rerun-if-changed=../../ui/dist");
}
