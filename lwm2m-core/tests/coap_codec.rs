//! The CoAP message codec against RFC 7252's own examples (Appendix A), the
//! option encoding rules of §3.1, and every malformed-input rule of §3 and
//! §4.1, as byte literals in both directions.

use coap_message::{MessageOption as _, MinimalWritableMessage, ReadableMessage};
use lwm2m_core::coap::numbers::{Code, ContentFormat, OptionNumber};
use lwm2m_core::coap::{Error, Message, MessageType, MessageWriter, Options, Repr, Token};

/// Emits `repr` into a buffer pre-filled with 0xa5 and returns the bytes.
fn emit(repr: &Repr<'_>) -> Vec<u8> {
    let mut buf = vec![0xa5; repr.buffer_len() + 8];
    let mut msg = Message::new_unchecked(&mut buf[..repr.buffer_len()]);
    let n = repr.emit(&mut msg).unwrap();
    assert_eq!(n, repr.buffer_len());
    assert!(buf[n..].iter().all(|&b| b == 0xa5), "wrote past buffer_len");
    buf.truncate(n);
    buf
}

fn parse(bytes: &[u8]) -> Result<Repr<'_>, Error> {
    let msg = Message::new_checked(bytes)?;
    // `Repr::parse` borrows from the view's buffer, not from the view.
    let msg: Message<&[u8]> = msg;
    Repr::parse(&msg)
}

const GET_TEMPERATURE: [u8; 16] = [
    0x40, 0x01, 0x7d, 0x34, // CON, TKL 0, 0.01 GET, MID 0x7d34
    0xbb, b't', b'e', b'm', b'p', b'e', b'r', b'a', b't', b'u', b'r', b'e', // Uri-Path
];

#[test]
fn rfc7252_figure_16_get_temperature_request_parses_and_emits() {
    let repr = parse(&GET_TEMPERATURE).unwrap();
    assert_eq!(repr.msg_type, MessageType::Con);
    assert_eq!(repr.code, Code::Get);
    assert_eq!(repr.message_id, 0x7d34);
    assert_eq!(repr.token, Token::EMPTY);
    let opts: Vec<_> = repr.options.iter().collect();
    assert_eq!(opts.len(), 1);
    assert_eq!(opts[0].number, OptionNumber::UriPath);
    assert_eq!(opts[0].value, b"temperature");
    assert_eq!(repr.payload, b"");
    assert_eq!(emit(&repr), GET_TEMPERATURE);

    // The writer builds the same bytes from parts.
    let mut buf = [0xa5; 64];
    let mut w =
        MessageWriter::new(&mut buf, MessageType::Con, Code::Get, 0x7d34, Token::EMPTY).unwrap();
    w.add_uri_path("/temperature").unwrap();
    assert_eq!(w.finish(), GET_TEMPERATURE);
}

#[test]
fn rfc7252_figure_16_piggybacked_content_response_parses_and_emits() {
    let bytes = [
        0x60, 0x45, 0x7d, 0x34, // ACK, TKL 0, 2.05 Content, MID 0x7d34
        0xff, b'2', b'2', b'.', b'3', b' ', b'C',
    ];
    let repr = parse(&bytes).unwrap();
    assert_eq!(repr.msg_type, MessageType::Ack);
    assert_eq!(repr.code, Code::Content);
    assert_eq!(repr.message_id, 0x7d34);
    assert!(repr.options.is_empty());
    assert_eq!(repr.payload, b"22.3 C");
    let built = Repr {
        msg_type: MessageType::Ack,
        code: Code::Content,
        message_id: 0x7d34,
        token: Token::EMPTY,
        options: Options::EMPTY,
        payload: b"22.3 C",
    };
    assert_eq!(emit(&built), bytes);
}

#[test]
fn rfc7252_figure_17_token_0x20_request_and_response() {
    let request = [
        0x41, 0x01, 0x7d, 0x35, 0x20, // CON, TKL 1, GET, MID 0x7d35, token 0x20
        0xbb, b't', b'e', b'm', b'p', b'e', b'r', b'a', b't', b'u', b'r', b'e',
    ];
    let response = [
        0x61, 0x45, 0x7d, 0x35, 0x20, // ACK, TKL 1, 2.05, MID 0x7d35, token 0x20
        0xff, b'2', b'2', b'.', b'3', b' ', b'C',
    ];
    let req = parse(&request).unwrap();
    assert_eq!(req.token.as_bytes(), [0x20]);
    assert_eq!(req.message_id, 0x7d35);
    assert_eq!(emit(&req), request);

    // A server answers with the request's token and message ID.
    let mut buf = [0xa5; 32];
    let mut w =
        MessageWriter::new(&mut buf, MessageType::Ack, Code::Content, req.message_id, req.token)
            .unwrap();
    w.set_payload(b"22.3 C").unwrap();
    assert_eq!(w.finish(), response);
    assert_eq!(parse(&response).unwrap().token, req.token);
}

#[test]
fn rfc7252_figure_20_separate_response_empty_ack_then_con_content() {
    // Empty ACK [0x7d38], then CON [0xad7b] 2.05 token 0x53, then the
    // client's empty ACK [0xad7b].
    let empty_ack = [0x60, 0x00, 0x7d, 0x38];
    let con = [0x41, 0x45, 0xad, 0x7b, 0x53, 0xff, b'2', b'2', b'.', b'3', b' ', b'C'];
    let client_ack = [0x60, 0x00, 0xad, 0x7b];

    let ack = parse(&empty_ack).unwrap();
    assert_eq!(ack, Repr::empty(MessageType::Ack, 0x7d38));
    assert!(ack.code.is_empty());
    assert_eq!(emit(&Repr::empty(MessageType::Ack, 0x7d38)), empty_ack);

    let rsp = parse(&con).unwrap();
    assert_eq!((rsp.msg_type, rsp.code, rsp.message_id), (MessageType::Con, Code::Content, 0xad7b));
    assert_eq!(rsp.token.as_bytes(), [0x53]);
    assert_eq!(emit(&rsp), con);
    assert_eq!(emit(&Repr::empty(MessageType::Ack, rsp.message_id)), client_ack);
}

#[test]
fn rfc7252_figure_21_non_request_and_non_response() {
    let request = [
        0x51, 0x01, 0x7d, 0x40, 0x74, // NON, TKL 1, GET, MID 0x7d40, token 0x74
        0xbb, b't', b'e', b'm', b'p', b'e', b'r', b'a', b't', b'u', b'r', b'e',
    ];
    let response = [0x51, 0x45, 0xad, 0x7d, 0x74, 0xff, b'2', b'2', b'.', b'3', b' ', b'C'];
    let req = parse(&request).unwrap();
    assert_eq!(req.msg_type, MessageType::Non);
    let mut buf = [0xa5; 32];
    let mut w =
        MessageWriter::new(&mut buf, MessageType::Non, Code::Content, 0xad7d, req.token).unwrap();
    w.set_payload(b"22.3 C").unwrap();
    assert_eq!(w.finish(), response);
}

#[test]
fn reset_and_ping_are_empty_messages() {
    // RFC 7252 §4.3: a CoAP ping is an Empty CON, answered with RST.
    assert_eq!(parse(&[0x40, 0, 0x12, 0x34]).unwrap(), Repr::empty(MessageType::Con, 0x1234));
    assert_eq!(parse(&[0x70, 0, 0x12, 0x34]).unwrap(), Repr::empty(MessageType::Rst, 0x1234));
}

#[test]
fn option_delta_examples_rfc7252_section_3_1() {
    // Options 11 (Uri-Path, delta 11), 12 (Content-Format, delta 1),
    // 60 (Size1, delta 48 → nibble 13, ext 35), 60 again (delta 0),
    // 1000 (delta 940 → nibble 14, ext 940-269 = 671 = 0x029f), with a
    // 13-byte value (length nibble 13, ext 0) and a 300-byte value (length
    // nibble 14, ext 300-269 = 31).
    let mut expected = vec![0x40, 0x02, 0x00, 0x01];
    expected.extend_from_slice(&[0xb1, b'a']);
    expected.extend_from_slice(&[0x11, 40]);
    expected.extend_from_slice(&[0xd2, 35, 0x01, 0x00]);
    expected.extend_from_slice(&[0x0d, 0]);
    expected.extend_from_slice(&[b'z'; 13]);
    expected.extend_from_slice(&[0xee, 0x02, 0x9f, 0x00, 31]);
    expected.extend_from_slice(&[b'y'; 300]);

    let mut buf = vec![0xa5; 512];
    let mut w =
        MessageWriter::new(&mut buf, MessageType::Con, Code::Post, 1, Token::EMPTY).unwrap();
    w.add_uri_path("a").unwrap();
    w.add_content_format(ContentFormat::LinkFormat).unwrap();
    w.add_uint(OptionNumber::Size1, 256).unwrap();
    w.add_option(OptionNumber::Size1, &[b'z'; 13]).unwrap();
    w.add_option(OptionNumber::Unknown(1000), &[b'y'; 300]).unwrap();
    assert_eq!(w.finish(), &expected[..]);

    let repr = parse(&expected).unwrap();
    let numbers: Vec<u16> = repr.options.iter().map(|o| o.number.raw()).collect();
    assert_eq!(numbers, [11, 12, 60, 60, 1000]);
    assert_eq!(repr.options.get_uint(OptionNumber::Size1), Some(256));
    assert_eq!(repr.options.get_all(OptionNumber::Size1).count(), 2);
    assert_eq!(repr.options.get(OptionNumber::Unknown(1000)).unwrap().value.len(), 300);
    assert_eq!(emit(&repr), expected);
}

#[test]
fn every_rfc7252_observe_block_and_size_option_round_trips() {
    let mut buf = [0u8; 256];
    let mut w = MessageWriter::new(&mut buf, MessageType::Con, Code::Get, 7, Token::EMPTY).unwrap();
    w.add_option(OptionNumber::IfMatch, &[1, 2]).unwrap(); // 1
    w.add_str(OptionNumber::UriHost, "example.net").unwrap(); // 3
    w.add_option(OptionNumber::ETag, &[0xab]).unwrap(); // 4
    w.add_option(OptionNumber::IfNoneMatch, &[]).unwrap(); // 5
    w.add_uint(OptionNumber::Observe, 0).unwrap(); // 6
    w.add_uint(OptionNumber::UriPort, 5683).unwrap(); // 7
    w.add_path(OptionNumber::LocationPath, "rd/5a3f").unwrap(); // 8
    w.add_uri_path("3/0/1").unwrap(); // 11
    w.add_content_format(ContentFormat::SenmlCbor).unwrap(); // 12
    w.add_uint(OptionNumber::MaxAge, 60).unwrap(); // 14
    w.add_uri_query("pmin=10").unwrap(); // 15
    w.add_uint(OptionNumber::Accept, 11542).unwrap(); // 17
    w.add_str(OptionNumber::LocationQuery, "q").unwrap(); // 20
    w.add_uint(OptionNumber::Block2, 0x1e).unwrap(); // 23: NUM 1, M 1, SZX 6
    w.add_uint(OptionNumber::Block1, 0x02).unwrap(); // 27
    w.add_uint(OptionNumber::Size2, 1024).unwrap(); // 28
    w.add_str(OptionNumber::ProxyUri, "coap://h/").unwrap(); // 35
    w.add_str(OptionNumber::ProxyScheme, "coap").unwrap(); // 39
    w.add_uint(OptionNumber::Size1, 70000).unwrap(); // 60
    let bytes = w.finish().to_vec();
    let repr = parse(&bytes).unwrap();
    let numbers: Vec<u16> = repr.options.iter().map(|o| o.number.raw()).collect();
    assert_eq!(
        numbers,
        [1, 3, 4, 5, 6, 7, 8, 8, 11, 11, 11, 12, 14, 15, 17, 20, 23, 27, 28, 35, 39, 60]
    );
    assert!(repr.options.iter().all(|o| !matches!(o.number, OptionNumber::Unknown(_))));
    assert_eq!(repr.options.get(OptionNumber::Observe).unwrap().value, b"", "0 is the empty uint");
    assert_eq!(repr.options.get_uint(OptionNumber::UriPort), Some(5683));
    assert_eq!(repr.options.get_uint(OptionNumber::Accept), Some(11542));
    assert_eq!(repr.options.get_uint(OptionNumber::Size1), Some(70000));
    assert_eq!(repr.options.get(OptionNumber::Size1).unwrap().value, [0x01, 0x11, 0x70]);
    let segs: Vec<&str> =
        repr.options.get_all(OptionNumber::UriPath).map(|o| o.value_str().unwrap()).collect();
    assert_eq!(segs, ["3", "0", "1"]);
    assert_eq!(repr.first_unknown_critical(), None);
    assert_eq!(emit(&repr), bytes);
}

// --- malformed input: one rule per test -----------------------------------

#[test]
fn shorter_than_four_bytes_is_truncated() {
    for n in 0..4 {
        assert_eq!(parse(&[0x40, 0x01, 0x00, 0x01][..n]), Err(Error::Truncated));
    }
}

#[test]
fn version_other_than_1_is_rejected() {
    for ver in [0u8, 2, 3] {
        let bytes = [(ver << 6), 0x01, 0, 1];
        assert_eq!(parse(&bytes), Err(Error::BadVersion));
    }
    // The view itself reports the version; judging it is Repr's job.
    assert_eq!(Message::new_checked(&[0x80u8, 1, 0, 1][..]).unwrap().version(), 2);
}

#[test]
fn token_length_9_to_15_is_a_format_error() {
    for tkl in 9u8..=15 {
        let mut bytes = vec![0x40 | tkl, 0x01, 0, 1];
        bytes.extend_from_slice(&[0; 15]);
        assert_eq!(parse(&bytes), Err(Error::BadTokenLength), "tkl {tkl}");
    }
}

#[test]
fn token_shorter_than_tkl_is_truncated() {
    assert_eq!(parse(&[0x44, 0x01, 0, 1, 0xaa, 0xbb]), Err(Error::Truncated));
}

#[test]
fn reserved_option_delta_15_is_a_format_error() {
    assert_eq!(parse(&[0x40, 0x01, 0, 1, 0xf1, b'x']), Err(Error::BadOptionDelta));
}

#[test]
fn reserved_option_length_15_is_a_format_error() {
    assert_eq!(parse(&[0x40, 0x01, 0, 1, 0xbf, b'x']), Err(Error::BadOptionLength));
}

#[test]
fn truncated_option_value_is_rejected() {
    assert_eq!(parse(&[0x40, 0x01, 0, 1, 0xb5, b'a', b'b']), Err(Error::Truncated));
}

#[test]
fn truncated_option_extension_bytes_are_rejected() {
    assert_eq!(parse(&[0x40, 0x01, 0, 1, 0xd0]), Err(Error::Truncated));
    assert_eq!(parse(&[0x40, 0x01, 0, 1, 0xe0, 0x01]), Err(Error::Truncated));
    assert_eq!(parse(&[0x40, 0x01, 0, 1, 0x0e, 0x01]), Err(Error::Truncated));
}

#[test]
fn option_number_beyond_65535_is_rejected() {
    // Delta 65535 (0xe0, ext 65535-269 = 0xfef2), then delta 1.
    assert_eq!(
        parse(&[0x40, 0x01, 0, 1, 0xe0, 0xfe, 0xf2, 0x10]),
        Err(Error::OptionNumberOverflow)
    );
}

#[test]
fn payload_marker_followed_by_empty_payload_is_a_format_error() {
    assert_eq!(parse(&[0x60, 0x45, 0, 1, 0xff]), Err(Error::EmptyPayload));
    assert_eq!(parse(&[0x40, 0x01, 0, 1, 0xb1, b'a', 0xff]), Err(Error::EmptyPayload));
}

#[test]
fn empty_message_with_token_options_or_payload_is_a_format_error() {
    assert_eq!(parse(&[0x61, 0x00, 0, 1, 0xaa]), Err(Error::EmptyWithContent));
    assert_eq!(parse(&[0x60, 0x00, 0, 1, 0xb1, b'a']), Err(Error::EmptyWithContent));
    assert_eq!(parse(&[0x70, 0x00, 0, 1, 0xff, b'x']), Err(Error::EmptyWithContent));
}

#[test]
fn unknown_critical_option_is_data_that_the_endpoint_can_answer_with_4_02() {
    // Option 9 is unassigned and odd (critical), RFC 7252 §5.4.1.
    let bytes = [0x40, 0x01, 0, 1, 0x91, b'x'];
    let repr = parse(&bytes).unwrap();
    assert_eq!(repr.first_unknown_critical(), Some(OptionNumber::Unknown(9)));
    // An unknown elective (even) option is ignorable: 269 + 1 = 270.
    let bytes = [0x40, 0x01, 0, 1, 0xe0, 0x00, 0x01];
    let repr = parse(&bytes).unwrap();
    assert_eq!(repr.options.iter().next().unwrap().number, OptionNumber::Unknown(270));
    assert_eq!(repr.first_unknown_critical(), None);
}

#[test]
fn errors_display_and_tell_peer_faults_from_our_own() {
    assert_eq!(Error::BadTokenLength.to_string(), "CoAP token length above 8");
    assert!(Error::EmptyPayload.is_format_error());
    assert!(!Error::BufferTooSmall.is_format_error());
}

// --- coap-message traits ----------------------------------------------------

/// A handler written only against `coap-message`: it cannot see the token
/// or message ID.
type Seen = (u8, Vec<(u16, Vec<u8>)>, Vec<u8>);

fn generic_handler<M: ReadableMessage>(req: &M) -> Seen {
    (
        req.code().into(),
        req.options().map(|o| (o.number(), o.value().to_vec())).collect(),
        req.payload().to_vec(),
    )
}

fn generic_responder<W: MinimalWritableMessage>(w: &mut W) -> Result<(), W::UnionError> {
    use coap_message::{Code as _, OptionNumber as _};
    w.set_code(W::Code::new(0x45).map_err(W::convert_code_error)?);
    let cf = W::OptionNumber::new(12).map_err(W::convert_option_number_error)?;
    w.add_option_uint(cf, 40u16)?;
    w.set_payload(b"</1>")?;
    Ok(())
}

#[test]
fn repr_is_a_coap_message_readable_message() {
    let repr = parse(&GET_TEMPERATURE).unwrap();
    let (code, opts, payload) = generic_handler(&repr);
    assert_eq!(code, 0x01);
    assert_eq!(opts, [(11, b"temperature".to_vec())]);
    assert!(payload.is_empty());
}

#[test]
fn writer_is_a_coap_message_writable_message() {
    let mut buf = [0xa5; 32];
    let tok = Token::new(&[0x31]).unwrap();
    let mut w = MessageWriter::new(&mut buf, MessageType::Ack, Code::Empty, 0x7d36, tok).unwrap();
    generic_responder(&mut w).unwrap();
    assert_eq!(w.finish(), [0x61, 0x45, 0x7d, 0x36, 0x31, 0xc1, 40, 0xff, b'<', b'/', b'1', b'>']);
}

#[test]
fn writer_fills_the_payload_in_place_through_mutable_writable_message() {
    use coap_message::MutableWritableMessage;
    let mut buf = [0xa5; 32];
    let mut w =
        MessageWriter::new(&mut buf, MessageType::Ack, Code::Content, 2, Token::EMPTY).unwrap();
    let free = w.available_space();
    assert_eq!(free, 28);
    let p = w.payload_mut_with_len(6).unwrap();
    p.copy_from_slice(b"22.3 C");
    w.truncate(4).unwrap();
    assert_eq!(w.truncate(5), Err(Error::BufferTooSmall));
    assert_eq!(w.finish(), [0x60, 0x45, 0, 2, 0xff, b'2', b'2', b'.', b'3']);
}

#[test]
fn writer_copies_a_parsed_message_with_set_from_message() {
    let src = parse(&GET_TEMPERATURE).unwrap();
    let mut buf = [0u8; 32];
    let mut w =
        MessageWriter::new(&mut buf, MessageType::Con, Code::Empty, 0x7d34, Token::EMPTY).unwrap();
    w.set_from_message(&src).unwrap();
    assert_eq!(w.finish(), GET_TEMPERATURE);
}

#[test]
fn display_prints_one_line() {
    let repr = parse(&GET_TEMPERATURE).unwrap();
    assert_eq!(repr.to_string(), "CON 0.01 mid=0x7d34 tok=- Uri-Path:\"temperature\" [0 B]");
    let block = [0x61, 0x45, 0, 9, 0x31, 0xc1, 40, 0xb1, 0x1e, 0xff, b'x'];
    // Content-Format 12 then Block2 23 (delta 11): 2.05 with Block2 NUM 1, M 1, SZX 6.
    assert_eq!(
        parse(&block).unwrap().to_string(),
        "ACK 2.05 mid=0x0009 tok=31 Content-Format:40 Block2:1/1/1024 [1 B]"
    );
}
