//! `carrier-sample`.
#![forbid(unsafe_code)]

fn main() {
    println!("carrier-sample: not implemented yet");
}
