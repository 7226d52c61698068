//! Fuzz target for the CoAP message decoder (RFC 7252 §3).
//!
//! Asserts, for any input: decoding never panics; whenever the first parse
//! succeeds, `parse(emit(parse(x))) == parse(x)` and the emitted bytes are
//! exactly `x` (the codec keeps options and payload verbatim); the view's
//! accessors agree with the value; `Display` and option iteration are total;
//! and rebuilding the message option by option through `MessageWriter`
//! gives the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lwm2m_core::coap::{Message, MessageWriter, Repr};

fuzz_target!(|data: &[u8]| {
    let _ = Message::new_unchecked(data).to_string();
    let Ok(msg) = Message::new_checked(data) else {
        return;
    };
    // The view never panics once checked.
    let _ = (msg.version(), msg.msg_type(), msg.code(), msg.message_id());
    let view_opts = msg.options().count();
    let view_payload = msg.payload();

    let Ok(first) = Repr::parse(&msg) else {
        return;
    };
    assert_eq!(first.options.iter().count(), view_opts);
    assert_eq!(first.payload, view_payload);
    assert_eq!(first.token.as_bytes(), msg.token());
    let _ = first.to_string();
    let _ = first.first_unknown_critical();

    let mut out = vec![0xa5; first.buffer_len()];
    let n = first
        .emit(&mut Message::new_unchecked(&mut out[..]))
        .expect("emit into buffer_len() bytes");
    assert_eq!(n, out.len());
    let second = Repr::decode(&out).expect("re-parse of our own emit");
    assert_eq!(second, first);
    assert_eq!(out, data);

    // Rebuild through the writer: same bytes.
    let mut buf = vec![0u8; data.len()];
    let mut w = MessageWriter::new(
        &mut buf,
        first.msg_type,
        first.code,
        first.message_id,
        first.token,
    )
    .expect("header fits");
    for opt in first.options {
        w.add_option(opt.number, opt.value).expect("option fits");
    }
    w.set_payload(first.payload).expect("payload fits");
    assert_eq!(w.finish(), data);
});
