//! Arbitrary APN: `AT+CGDCONT` either refuses it or carries it so that the
//! modem's read-back line (`+CGDCONT: <cid>,"<type>","<apn>"`) parses to
//! the same context: parse(emit(x)) == x.
#![no_main]

use carrier_os_nrf::at::types::{PdnType, pdn_contexts};
use carrier_os_nrf::at::{Command, CommandLine, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u8, &str)| {
    let (cid, apn) = input;
    let mut line = CommandLine::new();
    let cmd = Command::DefinePdn { cid, pdn_type: PdnType::Ipv4v6, apn };
    if cmd.emit(&mut line).is_err() {
        return;
    }
    let params = line.strip_prefix("AT+CGDCONT=").expect("emitted prefix");
    let mut rsp = std::string::String::from("+CGDCONT: ");
    rsp.push_str(params);
    rsp.push_str(",\"\",0,0\r\nOK\r\n");
    let r = Response::parse(rsp.as_bytes()).expect("framed");
    let ctx = pdn_contexts(&r).next().expect("one line").expect("parses");
    assert_eq!(ctx.cid, cid);
    assert_eq!(ctx.pdn_type, Some(PdnType::Ipv4v6));
    assert_eq!(ctx.apn.as_str(), apn);
});
