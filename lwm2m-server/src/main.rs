//! The `lwm2m-server` command-line program.
#![forbid(unsafe_code)]

fn main() {
    eprintln!("lwm2m-server: not implemented yet");
    std::process::exit(2);
}
