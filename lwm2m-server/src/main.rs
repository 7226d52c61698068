//! The `lwm2m-server` command-line program: a bootstrap and
//! device-management server that prints what happens (registrations,
//! updates, notifications, responses) and takes commands from stdin or
//! from `--exec` (run once the named endpoint has registered).
//!
//! ```text
//! lwm2m-server --listen 127.0.0.1:5683 --lifetime 60 \
//!     --exec 'read urn:imei:1 /3/0 tlv' --exec 'observe urn:imei:1 /3/0/9'
//! ```
//! Commands: `list`, `read EP PATH [FMT]`, `write EP PATH VALUE`,
//! `execute EP PATH [ARGS]`, `observe EP PATH [FMT]`, `cancel EP PATH`,
//! `write-attributes EP PATH pmin=N …`, `create EP /O [TLV-HEX]`,
//! `delete EP PATH`, `discover EP PATH`, `push-firmware EP /5/0/0 FILE
//! [BLOCK_SIZE]` (a block-wise Write), `read-composite EP PATH… [FMT]`,
//! `observe-composite EP PATH… [FMT]`, `cancel-composite EP PATH…`,
//! `quit`. FMT is one of `text`, `tlv`, `senml-json`, `senml-cbor`,
//! `lwm2m-cbor`, `opaque` (composite requests: a SenML one, default
//! `senml-cbor`).
#![forbid(unsafe_code)]
#![allow(clippy::std_instead_of_core, clippy::print_stdout)]

use clap::Parser;
use lwm2m_core::coap::numbers::ContentFormat;
use lwm2m_core::path::Path;
use lwm2m_server::transport::{DtlsTransport, Transport, UdpTransport};
use lwm2m_server::{BootstrapPlan, Request, ServerConfig, ServerEvent, ServerHandle, spawn};
use std::collections::VecDeque;
use std::io::BufRead;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A small LwM2M bootstrap + device-management server.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// UDP address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:5683")]
    listen: SocketAddr,
    /// Server URI written into bootstrapping clients' Security object
    /// (default: this server's own address).
    #[arg(long)]
    dm_uri: Option<String>,
    /// Serve `coaps://` (DTLS-PSK) instead of `coap://`, accepting this
    /// client: `IDENTITY=HEXKEY` (repeatable).
    #[arg(long = "psk")]
    psk: Vec<String>,
    /// Registration lifetime written by the bootstrap plan, seconds.
    #[arg(long, default_value_t = 300)]
    lifetime: u32,
    /// A command to run once its endpoint has registered (repeatable).
    #[arg(long = "exec")]
    exec: Vec<String>,
    /// Exit after the `--exec` commands ran.
    #[arg(long)]
    exit_after_exec: bool,
    /// Seconds to wait for a client's answer.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Give up (exit 1) if the `--exec` commands have not all run after this many seconds.
    #[arg(long)]
    deadline: Option<u64>,
}

fn format_of(name: &str) -> Option<ContentFormat> {
    Some(match name {
        "text" => ContentFormat::TextPlain,
        "tlv" => ContentFormat::Lwm2mTlv,
        "senml-json" => ContentFormat::SenmlJson,
        "senml-cbor" => ContentFormat::SenmlCbor,
        "lwm2m-cbor" => ContentFormat::Lwm2mCbor,
        "opaque" => ContentFormat::OctetStream,
        _ => return None,
    })
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// Parse a command line into (endpoint, request).
fn parse(line: &str) -> Result<(String, Request), String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let [verb, ep, path, rest @ ..] = words.as_slice() else {
        return Err(format!("usage: VERB ENDPOINT PATH …: {line:?}"));
    };
    let path = Path::parse(path).map_err(|e| format!("bad path {path}: {e}"))?;
    let fmt = |i: usize| -> Result<Option<ContentFormat>, String> {
        match rest.get(i) {
            None => Ok(None),
            Some(f) => format_of(f).map(Some).ok_or(format!("unknown format {f}")),
        }
    };
    let request = match *verb {
        "read" => Request::Read { path, format: fmt(0)? },
        "observe" => Request::Observe { path, format: fmt(0)? },
        "cancel" => Request::CancelObserve { path },
        "read-composite" | "observe-composite" | "cancel-composite" => {
            // PATH… then an optional SenML format.
            let (format, more) = match rest.split_last() {
                Some((last, init)) if format_of(last).is_some() => (format_of(last), init),
                _ => (None, rest),
            };
            let mut paths = vec![path];
            for p in more {
                paths.push(Path::parse(p).map_err(|e| format!("bad path {p}: {e}"))?);
            }
            let format = format.unwrap_or(ContentFormat::SenmlCbor);
            match *verb {
                "read-composite" => Request::ReadComposite { paths, format },
                "observe-composite" => Request::ObserveComposite { paths, format },
                _ => Request::CancelObserveComposite { paths },
            }
        }
        "discover" => Request::Discover { path },
        "delete" => Request::Delete { path },
        "execute" => Request::Execute { path, args: rest.join(" ").into_bytes() },
        "write" => Request::Write {
            path,
            format: ContentFormat::TextPlain,
            payload: rest.join(" ").into_bytes(),
            replace: true,
        },
        "write-attributes" => Request::WriteAttributes {
            path,
            attributes: rest.iter().map(|s| s.to_string()).collect(),
        },
        "push-firmware" => {
            let file = rest.first().ok_or("push-firmware EP PATH FILE [BLOCK_SIZE]")?;
            let payload = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
            let block_size =
                rest.get(1).map_or(Ok(512), |b| b.parse()).map_err(|_| "bad block size")?;
            Request::WriteBlockwise {
                path,
                format: ContentFormat::OctetStream,
                payload,
                block_size,
            }
        }
        "create" => Request::Create {
            path,
            format: ContentFormat::Lwm2mTlv,
            payload: hex(rest.first().copied().unwrap_or("")).ok_or("bad hex payload")?,
        },
        other => return Err(format!("unknown command {other}")),
    };
    Ok((ep.to_string(), request))
}

fn run(server: &ServerHandle, line: &str, timeout: Duration) {
    let line = line.trim();
    if line.is_empty() {
        return;
    }
    if line == "list" {
        for r in server.registrations() {
            println!(
                "  {} at {} from {} lt={} b={} objects={}",
                r.endpoint, r.location, r.addr, r.lifetime_s, r.binding, r.objects
            );
        }
        return;
    }
    match parse(line) {
        Ok((ep, request)) => {
            let base = match &request {
                Request::Read { path, .. }
                | Request::Observe { path, .. }
                | Request::Discover { path } => *path,
                _ => Path::ROOT,
            };
            match server.request(&ep, request, timeout) {
                Ok(r) => {
                    println!("< {line}: {r}");
                    for (p, v) in r.values(&base) {
                        println!("    {p} = {v}");
                    }
                }
                Err(e) => println!("< {line}: error: {e}"),
            }
        }
        Err(e) => println!("! {e}"),
    }
}

fn main() {
    let args = Args::parse();
    let fail = |what: String| -> ! {
        eprintln!("lwm2m-server: {what}");
        std::process::exit(1);
    };
    let mut keys: Vec<(Vec<u8>, Vec<u8>)> = vec![];
    for entry in &args.psk {
        let Some((id, key)) = entry.split_once('=') else {
            fail(format!("--psk {entry}: want IDENTITY=HEXKEY"))
        };
        let Some(key) = hex(key) else { fail(format!("--psk {entry}: bad hex key")) };
        keys.push((id.as_bytes().to_vec(), key));
    }
    let config = |own: SocketAddr, scheme: &str| {
        let dm_uri = args.dm_uri.clone().unwrap_or_else(|| format!("{scheme}://{own}"));
        println!("listening on {scheme}://{own} (bootstrap + device management; DM URI {dm_uri})");
        ServerConfig {
            default_plan: Some(BootstrapPlan::single(&dm_uri, args.lifetime)),
            ..ServerConfig::default()
        }
    };
    let spawned = if keys.is_empty() {
        let t = UdpTransport::bind(args.listen)
            .unwrap_or_else(|e| fail(format!("cannot bind {}: {e}", args.listen)));
        let own = t.local_addr().unwrap_or(args.listen);
        spawn(t, config(own, "coap"))
    } else {
        let lookup = move |identity: &[u8]| {
            keys.iter().find(|(id, _)| id == identity).and_then(|(_, k)| dtls_psk::Psk::new(k).ok())
        };
        let t = DtlsTransport::bind(args.listen, lookup)
            .unwrap_or_else(|e| fail(format!("cannot bind {}: {e}", args.listen)));
        let own = t.local_addr().unwrap_or(args.listen);
        spawn(t, config(own, "coaps"))
    };
    let server = spawned.unwrap_or_else(|e| fail(e.to_string()));
    let (lines_tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let timeout = Duration::from_secs(args.timeout);
    let mut pending: VecDeque<String> = args.exec.iter().cloned().collect();
    let started = Instant::now();
    loop {
        if let Some(ev) = server.next_event(Duration::from_millis(50)) {
            println!("{ev}");
            if let ServerEvent::Registered { registration, .. } = &ev {
                // Run the --exec commands of this endpoint, in order.
                while let Some(cmd) = pending.front() {
                    if cmd.split_whitespace().nth(1) != Some(registration.endpoint.as_str()) {
                        break;
                    }
                    let cmd = pending.pop_front().unwrap_or_default();
                    run(&server, &cmd, timeout);
                }
                if pending.is_empty() && args.exit_after_exec && !args.exec.is_empty() {
                    break;
                }
            }
        }
        if let Some(limit) = args.deadline
            && !pending.is_empty()
            && started.elapsed() > Duration::from_secs(limit)
        {
            eprintln!("lwm2m-server: deadline passed with {} command(s) not run", pending.len());
            std::process::exit(1);
        }
        match lines.try_recv() {
            Ok(line) if line.trim() == "quit" => break,
            Ok(line) => run(&server, &line, timeout),
            Err(mpsc::TryRecvError::Empty) => {}
            Err(mpsc::TryRecvError::Disconnected) => {
                if args.exec.is_empty() {
                    break;
                }
            }
        }
    }
    server.stop();
}
