//! Fuzz target: the CoRE link-format parser never panics, and whatever it
//! parses as LwM2M attributes is written back and parsed to the same values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lwm2m_core::formats::Window;
use lwm2m_core::formats::link::{Attr, LinkParser, LinkWriter};

fuzz_target!(|data: &[u8]| {
    let Ok(parser) = LinkParser::new(data) else { return };
    for link in parser.take(10_000) {
        let Ok(link) = link else { break };
        let _ = link.path("");
        let attrs: Vec<Attr<'_>> = link.attrs().take(10_000).filter_map(Result::ok).collect();
        // Known numeric attributes must survive a write/parse cycle.
        let known: Vec<Attr<'_>> = attrs
            .into_iter()
            .filter(|a| !matches!(a, Attr::Other(..) | Attr::Ver(_) | Attr::Uri(_) | Attr::Rt(_)))
            .collect();
        let mut buf = vec![0u8; 64 + known.len() * 400];
        let mut w = LinkWriter::new(Window::new(&mut buf));
        w.link_str("/", &known);
        let c = w.finish();
        let again = LinkParser::new(&buf[..c.len]).unwrap().next().unwrap().unwrap();
        let back: Vec<Attr<'_>> = again.attrs().map(|a| a.unwrap()).collect();
        assert_eq!(format!("{known:?}"), format!("{back:?}"));
    }
});
