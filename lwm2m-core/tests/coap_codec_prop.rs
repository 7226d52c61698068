//! Property tests for the CoAP codec: decode(encode(m)) == m for arbitrary
//! valid messages (option numbers and value lengths across the 13/269
//! extension boundaries), re-emitting any accepted datagram gives the same
//! bytes, and no input makes decoding panic.

use lwm2m_core::coap::numbers::{Code, OptionNumber};
use lwm2m_core::coap::{Message, MessageType, MessageWriter, Repr, Token};
use proptest::prelude::*;

/// A message as a test model: what the writer is asked to build.
#[derive(Debug, Clone)]
struct Model {
    msg_type: MessageType,
    code: u8,
    mid: u16,
    token: Vec<u8>,
    options: Vec<(u16, Vec<u8>)>,
    payload: Vec<u8>,
}

/// Option numbers biased to the delta-encoding boundaries of RFC 7252 §3.1.
fn option_number() -> impl Strategy<Value = u16> {
    prop_oneof![
        0u16..=64,
        prop::sample::select(vec![12u16, 13, 14, 268, 269, 270, 271, 524, 65000, 65535]),
        any::<u16>(),
    ]
}

/// Value lengths biased to the length-encoding boundaries (12/13, 268/269).
fn option_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..=14),
        1 => prop::collection::vec(any::<u8>(), 266..=272),
    ]
}

fn message_type() -> impl Strategy<Value = MessageType> {
    (0u8..4).prop_map(MessageType::from_bits)
}

fn model() -> impl Strategy<Value = Model> {
    (
        message_type(),
        1u8..=255,
        any::<u16>(),
        prop::collection::vec(any::<u8>(), 0..=8),
        prop::collection::vec((option_number(), option_value()), 0..6),
        prop::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(|(msg_type, code, mid, token, mut options, payload)| {
            // The writer takes options in ascending order; equal numbers
            // repeat (stable sort keeps their relative order).
            options.sort_by_key(|(n, _)| *n);
            Model { msg_type, code, mid, token, options, payload }
        })
}

fn encode(m: &Model) -> Vec<u8> {
    let mut buf = vec![0xa5; 4096];
    let mut w = MessageWriter::new(
        &mut buf,
        m.msg_type,
        Code::from(m.code),
        m.mid,
        Token::new(&m.token).unwrap(),
    )
    .unwrap();
    for (n, v) in &m.options {
        w.add_option(OptionNumber::from(*n), v).unwrap();
    }
    w.set_payload(&m.payload).unwrap();
    let len = w.len();
    buf.truncate(len);
    buf
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn decode_of_encode_is_the_message(m in model()) {
        let bytes = encode(&m);
        let repr = Repr::decode(&bytes).unwrap();
        prop_assert_eq!(repr.msg_type, m.msg_type);
        prop_assert_eq!(repr.code.raw(), m.code);
        prop_assert_eq!(repr.message_id, m.mid);
        prop_assert_eq!(repr.token.as_bytes(), &m.token[..]);
        let opts: Vec<(u16, Vec<u8>)> =
            repr.options.iter().map(|o| (o.number.raw(), o.value.to_vec())).collect();
        prop_assert_eq!(opts, m.options.clone());
        prop_assert_eq!(repr.payload, &m.payload[..]);
        prop_assert_eq!(repr.buffer_len(), bytes.len());

        // The view agrees with the value.
        let msg = Message::new_checked(&bytes[..]).unwrap();
        prop_assert_eq!(msg.token(), &m.token[..]);
        prop_assert_eq!(msg.options().count(), m.options.len());
        prop_assert_eq!(msg.payload(), &m.payload[..]);

        // And the value emits the same bytes into a 0xa5-filled buffer.
        let mut out = vec![0xa5; repr.buffer_len()];
        repr.emit(&mut Message::new_unchecked(&mut out[..])).unwrap();
        prop_assert_eq!(out, bytes);
    }

    #[test]
    fn short_buffers_give_buffer_too_small_never_a_panic(
        m in model(),
        cut in any::<prop::sample::Index>(),
    ) {
        use lwm2m_core::coap::Error;
        let bytes = encode(&m);
        let short = cut.index(bytes.len());
        // Repr::emit into fewer than buffer_len() bytes.
        let repr = Repr::decode(&bytes).unwrap();
        let mut out = vec![0u8; short];
        prop_assert_eq!(
            repr.emit(&mut Message::new_unchecked(&mut out[..])),
            Err(Error::BufferTooSmall)
        );
        // The writer into the same short buffer: some step fails with
        // BufferTooSmall, and what was written before stays a valid message.
        let mut buf = vec![0u8; short];
        let token = Token::new(&m.token).unwrap();
        match MessageWriter::new(&mut buf, m.msg_type, Code::from(m.code), m.mid, token) {
            Err(e) => prop_assert_eq!(e, Error::BufferTooSmall),
            Ok(mut w) => {
                let mut r = m
                    .options
                    .iter()
                    .try_for_each(|(n, v)| w.add_option(OptionNumber::from(*n), v));
                if r.is_ok() {
                    r = w.set_payload(&m.payload);
                }
                prop_assert_eq!(r, Err(Error::BufferTooSmall));
                let partial = w.as_bytes();
                prop_assert!(Repr::decode(partial).is_ok(), "partial write is not a message");
                prop_assert!(bytes.starts_with(partial));
            }
        }
    }

    #[test]
    fn empty_messages_round_trip(t in message_type(), mid in any::<u16>()) {
        let repr = Repr::empty(t, mid);
        let mut out = [0xa5; 4];
        repr.encode_into(&mut out).unwrap();
        prop_assert_eq!(Repr::decode(&out).unwrap(), repr);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        exercise(&bytes);
    }

    #[test]
    fn decoding_mutated_valid_messages_never_panics(
        m in model(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = encode(&m);
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let keep = cut.index(bytes.len() + 1);
        exercise(&bytes[..keep]);
        exercise(&bytes);
    }
}

/// Everything a receiver might do with untrusted bytes.
fn exercise(bytes: &[u8]) {
    let _ = Message::new_unchecked(bytes).to_string();
    if bytes.len() >= 4 {
        // Unchecked view: accessors must not panic beyond the fixed header.
        let msg = Message::new_unchecked(bytes);
        let _ = (msg.version(), msg.msg_type(), msg.code(), msg.message_id(), msg.token());
        let _ = msg.options().count();
        let _ = msg.payload();
    }
    if let Ok(msg) = Message::new_checked(bytes) {
        msg.options().for_each(|o| drop(o.to_string()));
        let _ = msg.payload();
    }
    if let Ok(repr) = Repr::decode(bytes) {
        let _ = repr.to_string();
        let _ = repr.first_unknown_critical();
        // Whatever we accept, we re-emit byte for byte.
        let mut out = vec![0u8; repr.buffer_len()];
        repr.encode_into(&mut out).unwrap();
        assert_eq!(out, bytes);
    }
}

// --- differential: coap-lite (an independent decoder) ----------------------

/// What both decoders say about a datagram, in one comparable shape.
#[derive(Debug, PartialEq)]
struct Decoded {
    msg_type: u8,
    code: u8,
    mid: u16,
    token: Vec<u8>,
    options: Vec<(u16, Vec<u8>)>,
    payload: Vec<u8>,
}

fn ours(bytes: &[u8]) -> Result<Decoded, lwm2m_core::coap::Error> {
    let r = Repr::decode(bytes)?;
    Ok(Decoded {
        msg_type: r.msg_type.bits(),
        code: r.code.raw(),
        mid: r.message_id,
        token: r.token.as_bytes().to_vec(),
        options: r.options.iter().map(|o| (o.number.raw(), o.value.to_vec())).collect(),
        payload: r.payload.to_vec(),
    })
}

fn lite(bytes: &[u8]) -> Option<Decoded> {
    use coap_lite::{MessageType as T, Packet};
    let p = Packet::from_bytes(bytes).ok()?;
    Some(Decoded {
        msg_type: match p.header.get_type() {
            T::Confirmable => 0,
            T::NonConfirmable => 1,
            T::Acknowledgement => 2,
            T::Reset => 3,
        },
        code: p.header.code.into(),
        mid: p.header.message_id,
        token: p.get_token().to_vec(),
        // coap-lite groups values by number (a BTreeMap of lists); ours is
        // the wire order, which is ascending, so flattening agrees.
        options: p.options().flat_map(|(n, vs)| vs.iter().map(move |v| (*n, v.clone()))).collect(),
        payload: p.payload,
    })
}

/// Checks one datagram against coap-lite. Where coap-lite accepts what we
/// reject, it must be one of the RFC rules coap-lite does not enforce.
fn differential(bytes: &[u8]) -> Result<(), TestCaseError> {
    use lwm2m_core::coap::Error as E;
    match (ours(bytes), lite(bytes)) {
        (Ok(a), Some(b)) => prop_assert_eq!(a, b),
        (Ok(a), None) => prop_assert!(false, "coap-lite rejects what we accept: {a:?}"),
        (Err(e), Some(_)) => prop_assert!(
            // coap-lite skips: version check (§3), "marker then empty
            // payload" (§3), and the Empty-message rule (§4.1).
            matches!(e, E::BadVersion | E::EmptyPayload | E::EmptyWithContent),
            "we reject with {e:?} what coap-lite accepts"
        ),
        (Err(_), None) => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn coap_lite_decodes_our_encoding_identically(m in model()) {
        let bytes = encode(&m);
        let b = lite(&bytes).expect("coap-lite rejects our encoding");
        prop_assert_eq!(ours(&bytes).unwrap(), b);
    }

    #[test]
    fn coap_lite_encodes_the_bytes_we_encode(m in model()) {
        use std::collections::LinkedList;
        let mut p = coap_lite::Packet::new();
        p.header.set_version(1);
        p.header.set_type(match m.msg_type {
            MessageType::Con => coap_lite::MessageType::Confirmable,
            MessageType::Non => coap_lite::MessageType::NonConfirmable,
            MessageType::Ack => coap_lite::MessageType::Acknowledgement,
            MessageType::Rst => coap_lite::MessageType::Reset,
        });
        p.header.code = m.code.into();
        p.header.message_id = m.mid;
        p.set_token(m.token.clone());
        for (n, v) in &m.options {
            let n = coap_lite::CoapOption::from(*n);
            let mut list = p.get_option(n).cloned().unwrap_or_else(LinkedList::new);
            list.push_back(v.clone());
            p.set_option(n, list);
        }
        p.payload = m.payload.clone();
        prop_assert_eq!(p.to_bytes_unlimited().unwrap(), encode(&m));
    }

    #[test]
    fn arbitrary_bytes_decode_as_coap_lite_says(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
        differential(&bytes)?;
    }

    #[test]
    fn mutated_messages_decode_as_coap_lite_says(
        m in model(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..3),
    ) {
        let mut bytes = encode(&m);
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        differential(&bytes)?;
    }
}
