//! Server URI syntax: `coap://` or `coaps://`, a host (name, IPv4 or bracketed IPv6) and an
//! optional port (RFC 7252 §6.1).
//!
//! Owns [`ServerUri`] and [`parse_server_uri`]. Guarantee: any `&str` is accepted as input and
//! either parsed or rejected with [`ConfigError::InvalidUri`]; no indexing, no panic.

use crate::error::{ConfigError, UriProblem};

/// CoAP default port (RFC 7252 §6.1).
pub const COAP_PORT: u16 = 5683;
/// CoAPS default port (RFC 7252 §6.2).
pub const COAPS_PORT: u16 = 5684;

/// A parsed server URI, borrowing from the configuration string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ServerUri<'a> {
    /// `coaps://` (DTLS) rather than `coap://`.
    pub secure: bool,
    /// Host name or address, without IPv6 brackets.
    pub host: &'a str,
    /// Port, the scheme's default when absent.
    pub port: u16,
}

/// Parse a server URI.
///
/// # Errors
/// [`ConfigError::InvalidUri`] saying what is wrong.
pub fn parse_server_uri(uri: &str) -> Result<ServerUri<'_>, ConfigError> {
    let err = |problem| ConfigError::InvalidUri { problem };
    let (secure, rest) = if let Some(rest) = strip_prefix_ignore_case(uri, "coaps://") {
        (true, rest)
    } else if let Some(rest) = strip_prefix_ignore_case(uri, "coap://") {
        (false, rest)
    } else {
        return Err(err(UriProblem::Scheme));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() {
        return Err(err(UriProblem::MissingHost));
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or(err(UriProblem::Host))?;
        if host.is_empty() || !host.bytes().all(|b| b.is_ascii_hexdigit() || b":.%".contains(&b)) {
            return Err(err(UriProblem::Host));
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(err(UriProblem::Host))?),
        };
        (host, port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(err(UriProblem::MissingHost));
    }
    if !authority.starts_with('[')
        && !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
    {
        return Err(err(UriProblem::Host));
    }
    let port = match port {
        None => {
            if secure {
                COAPS_PORT
            } else {
                COAP_PORT
            }
        }
        Some(p) => {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err(UriProblem::Port));
            }
            match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(err(UriProblem::Port)),
                Ok(n) => n,
            }
        }
    };
    Ok(ServerUri { secure, host, port })
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let (head, tail) = s.split_at_checked(prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then_some(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verizon_bootstrap_uri_parses() {
        let u = parse_server_uri("coaps://boot.lwm2m.vzwdm.com:5684").unwrap();
        assert_eq!(u, ServerUri { secure: true, host: "boot.lwm2m.vzwdm.com", port: 5684 });
    }

    #[test]
    fn default_ports_follow_the_scheme() {
        assert_eq!(parse_server_uri("coap://example.com").unwrap().port, 5683);
        assert_eq!(parse_server_uri("COAPS://example.com/").unwrap().port, 5684);
    }

    #[test]
    fn ipv6_literal() {
        let u = parse_server_uri("coap://[2001:db8::1]:5690").unwrap();
        assert_eq!(u, ServerUri { secure: false, host: "2001:db8::1", port: 5690 });
    }

    #[test]
    fn bad_uris_say_why() {
        let p = |s| match parse_server_uri(s) {
            Err(ConfigError::InvalidUri { problem }) => problem,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(p("http://example.com"), UriProblem::Scheme);
        assert_eq!(p("coaps://"), UriProblem::MissingHost);
        assert_eq!(p("coaps://:5684"), UriProblem::MissingHost);
        assert_eq!(p("coaps://host:0"), UriProblem::Port);
        assert_eq!(p("coaps://host:65536"), UriProblem::Port);
        assert_eq!(p("coaps://host:"), UriProblem::Port);
        assert_eq!(p("coaps://[::1"), UriProblem::Host);
        assert_eq!(p("coaps://ho st"), UriProblem::Host);
        assert_eq!(p("coaps://a:b:c"), UriProblem::Port);
    }
}
