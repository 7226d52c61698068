//! `carrier-shell`.
#![forbid(unsafe_code)]

fn main() {
    println!("carrier-shell: not implemented yet");
}
