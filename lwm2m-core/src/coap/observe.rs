//! Observing resources (RFC 7641): the server's list of observers and the
//! client's freshness check for reordered notifications.
//!
//! - [`ObserverRegistry`] (server side, §4): a fixed-capacity list of
//!   observers keyed by (remote, token) — §4.1: "the entry in the list of
//!   observers is keyed by the client endpoint and the token". Registration
//!   with Observe = 0, cancellation by a GET with Observe = 1 (§3.6) or by a
//!   RST matching the MID of a notification (§3.6, §4.5), 24-bit sequence
//!   numbers (§4.4), and the rule of §4.5 that a notification is sent as a
//!   Confirmable message at least every `con_interval` (24 hours by default)
//!   and may be Non-confirmable otherwise.
//! - [`Freshness`] (client side, §3.4): decides whether a notification is
//!   newer than the last one accepted, so reordered ones can be dropped.
//!
//! A notification is triggered by the caller ([`ObserverRegistry::notify`]):
//! when a resource changes, or when an LwM2M notification attribute (pmin,
//! pmax, gt, lt, st, epmin, epmax — the LwM2M client's business) says so.
//! The registry only numbers it and picks CON or NON; the endpoint sends it.
//!
//! Guarantee: nothing here panics or allocates; a full registry is an error
//! value ([`ObserveError::Full`]), upon which §4.1 says the server simply
//! answers the GET without an Observe option.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::time::{Duration, Instant};
use core::fmt;

/// Sequence numbers are 24-bit (RFC 7641 §4.4): they wrap at 2^24.
pub const SEQ_MODULUS: u32 = 1 << 24;

/// Half the sequence space: two numbers further apart than this are taken
/// as having wrapped (RFC 7641 §3.4).
const SEQ_HALF: u32 = 1 << 23;

/// After this long, a notification is fresh whatever its number (RFC 7641
/// §3.4: 128 seconds).
pub const FRESHNESS_WINDOW: Duration = Duration::from_secs(128);

/// RFC 7641 §4.5 default: at least one Confirmable notification every 24 h.
pub const DEFAULT_CON_INTERVAL: Duration = Duration::from_hours(24);

/// Longest CoAP token (RFC 7252 §3).
const MAX_TOKEN_LEN: usize = 8;

/// RFC 7641 §3.4: is notification `(v2, t2)` newer than `(v1, t1)`?
///
/// True if `V1 < V2 and V2 - V1 < 2^23`, or `V1 > V2 and V1 - V2 > 2^23`,
/// or `T2 > T1 + 128 seconds`. Values are taken modulo 2^24.
pub fn is_fresh(v1: u32, t1: Instant, v2: u32, t2: Instant) -> bool {
    let (v1, v2) = (v1 % SEQ_MODULUS, v2 % SEQ_MODULUS);
    (v1 < v2 && v2 - v1 < SEQ_HALF) || (v1 > v2 && v1 - v2 > SEQ_HALF) || t2 > t1 + FRESHNESS_WINDOW
}

/// Client side of §3.4: remembers the newest notification accepted for one
/// observation and rejects older (reordered) ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Freshness {
    last: Option<(u32, Instant)>,
}

impl Freshness {
    /// A tracker that has seen nothing yet.
    pub const fn new() -> Self {
        Freshness { last: None }
    }

    /// Offer notification number `seq` received at `now`: `true` (and
    /// remembered) if it is fresher than the last accepted one, `false` if
    /// it is stale and must not replace the current representation.
    #[must_use]
    pub fn accept(&mut self, seq: u32, now: Instant) -> bool {
        let fresh = match self.last {
            None => true,
            Some((v1, t1)) => is_fresh(v1, t1, seq, now),
        };
        if fresh {
            self.last = Some((seq % SEQ_MODULUS, now));
        }
        fresh
    }
}

/// Why an observer could not be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ObserveError {
    /// Every slot is taken; answer the GET without Observe (§4.1).
    #[error("observer registry is full")]
    Full,
    /// A token longer than 8 bytes (RFC 7252 §3).
    #[error("token longer than 8 bytes")]
    TokenTooLong,
}

/// A handle to one observer in an [`ObserverRegistry`]; valid until that
/// observer is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ObserverId(usize);

/// One entry of the observer list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observer<A, K> {
    remote: A,
    token: heapless::Vec<u8, MAX_TOKEN_LEN>,
    key: K,
    seq: u32,
    last_con: Instant,
    last_mid: Option<u16>,
}

impl<A: Copy, K> Observer<A, K> {
    /// The observing endpoint.
    pub fn remote(&self) -> A {
        self.remote
    }
    /// The token of the registration, echoed in every notification.
    pub fn token(&self) -> &[u8] {
        &self.token
    }
    /// What is observed (the caller's resource key).
    pub fn key(&self) -> &K {
        &self.key
    }
    /// The sequence number of the last notification (or of the registration response).
    pub fn seq(&self) -> u32 {
        self.seq
    }
    /// The message ID of the last notification sent, if recorded.
    pub fn last_mid(&self) -> Option<u16> {
        self.last_mid
    }
}

/// A notification to send: its Observe option value and message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use]
pub struct Notification {
    /// The Observe option value (24 bits).
    pub seq: u32,
    /// Send as CON (true) or NON (false).
    pub confirmable: bool,
}

/// The server's list of observers (RFC 7641 §4.1), for `N` observers at
/// most. `A` is the remote address type, `K` what the caller observes by (a
/// URI path, an LwM2M path, a resource index).
#[derive(Debug, Clone)]
pub struct ObserverRegistry<A, K, const N: usize> {
    slots: [Option<Observer<A, K>>; N],
    con_interval: Duration,
    next_seq: u32,
}

impl<A: Copy + Eq, K: PartialEq, const N: usize> Default for ObserverRegistry<A, K, N> {
    fn default() -> Self {
        Self::new(DEFAULT_CON_INTERVAL)
    }
}

impl<A: Copy + Eq, K: PartialEq, const N: usize> ObserverRegistry<A, K, N> {
    /// An empty registry sending a Confirmable notification to each
    /// observer at least every `con_interval` (RFC 7641 §4.5: 24 h is the
    /// recommended default, [`DEFAULT_CON_INTERVAL`]).
    pub const fn new(con_interval: Duration) -> Self {
        ObserverRegistry { slots: [const { None }; N], con_interval, next_seq: 0 }
    }

    /// Register `remote`/`token` as observing `key` (a GET with Observe = 0)
    /// and return its handle and the Observe value for the response.
    ///
    /// A registration with the (remote, token) of an existing observer
    /// replaces that entry (§4.1) instead of adding one.
    ///
    /// # Errors
    /// [`ObserveError::Full`], [`ObserveError::TokenTooLong`].
    pub fn register(
        &mut self,
        remote: A,
        token: &[u8],
        key: K,
        now: Instant,
    ) -> Result<(ObserverId, u32), ObserveError> {
        let token = heapless::Vec::from_slice(token).map_err(|_| ObserveError::TokenTooLong)?;
        let index = match self.find(remote, &token) {
            Some(ObserverId(i)) => i,
            None => self.slots.iter().position(Option::is_none).ok_or(ObserveError::Full)?,
        };
        let seq = self.bump_seq();
        let slot = self.slots.get_mut(index).ok_or(ObserveError::Full)?;
        *slot = Some(Observer { remote, token, key, seq, last_con: now, last_mid: None });
        Ok((ObserverId(index), seq))
    }

    /// A global counter, so sequence numbers increase across re-registrations
    /// too (§4.4 only asks them to increase per resource and observer).
    fn bump_seq(&mut self) -> u32 {
        let seq = self.next_seq;
        self.next_seq = (self.next_seq + 1) % SEQ_MODULUS;
        seq
    }

    fn find(&self, remote: A, token: &[u8]) -> Option<ObserverId> {
        self.slots
            .iter()
            .position(|s| s.as_ref().is_some_and(|o| o.remote == remote && o.token == token))
            .map(ObserverId)
    }

    /// Remove the observer `remote`/`token` (a GET with Observe = 1, §3.6);
    /// returns what it observed.
    pub fn deregister(&mut self, remote: A, token: &[u8]) -> Option<K> {
        let id = self.find(remote, token)?;
        self.remove(id)
    }

    /// Remove the observer whose last notification had message ID `mid`
    /// (a RST in reply to a notification, §3.6; or a CON notification that
    /// timed out, §4.5).
    pub fn cancel_by_mid(&mut self, remote: A, mid: u16) -> Option<K> {
        let index = self.slots.iter().position(|s| {
            s.as_ref().is_some_and(|o| o.remote == remote && o.last_mid == Some(mid))
        })?;
        self.remove(ObserverId(index))
    }

    /// Remove one observer; returns what it observed.
    pub fn remove(&mut self, id: ObserverId) -> Option<K> {
        self.slots.get_mut(id.0)?.take().map(|o| o.key)
    }

    /// The observer behind `id`, if still registered.
    pub fn get(&self, id: ObserverId) -> Option<&Observer<A, K>> {
        self.slots.get(id.0)?.as_ref()
    }

    /// Handles of every observer of `key`.
    pub fn observers_of<'s>(&'s self, key: &'s K) -> impl Iterator<Item = ObserverId> + 's {
        self.iter().filter(move |(_, o)| o.key == *key).map(|(id, _)| id)
    }

    /// Every observer with its handle.
    pub fn iter(&self) -> impl Iterator<Item = (ObserverId, &Observer<A, K>)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| s.as_ref().map(|o| (ObserverId(i), o)))
    }

    /// How many observers are registered.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// No observer is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number and type a new notification to observer `id` at `now`.
    ///
    /// It is Confirmable when `want_con` is set or when the last
    /// Confirmable one to this observer is `con_interval` or longer ago
    /// (§4.5), Non-confirmable otherwise. `None` if `id` is not registered.
    pub fn notify(&mut self, id: ObserverId, now: Instant, want_con: bool) -> Option<Notification> {
        let con_interval = self.con_interval;
        self.slots.get(id.0)?.as_ref()?;
        let seq = self.bump_seq();
        let o = self.slots.get_mut(id.0)?.as_mut()?;
        let confirmable = want_con || now.saturating_duration_since(o.last_con) >= con_interval;
        if confirmable {
            o.last_con = now;
        }
        o.seq = seq;
        Some(Notification { seq, confirmable })
    }

    /// Record the message ID the endpoint gave the last notification to
    /// `id`, so a RST naming it cancels the observation.
    pub fn set_last_mid(&mut self, id: ObserverId, mid: u16) {
        if let Some(Some(o)) = self.slots.get_mut(id.0) {
            o.last_mid = Some(mid);
        }
    }
}

impl fmt::Display for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Observe={}", if self.confirmable { "CON" } else { "NON" }, self.seq)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    const T0: Instant = Instant::from_secs(1000);

    #[test]
    fn freshness_follows_rfc7641_section_3_4() {
        // V1 < V2 and V2 - V1 < 2^23: fresh.
        assert!(is_fresh(5, T0, 6, T0));
        // Reordered: older number, same time.
        assert!(!is_fresh(6, T0, 5, T0));
        // Equal numbers are not fresher.
        assert!(!is_fresh(6, T0, 6, T0));
        // Wrap-around: V1 > V2 and V1 - V2 > 2^23.
        assert!(is_fresh(SEQ_MODULUS - 1, T0, 0, T0));
        assert!(!is_fresh(0, T0, SEQ_MODULUS - 1, T0));
        // Exactly 2^23 apart is in neither window.
        assert!(!is_fresh(0, T0, SEQ_HALF, T0));
        assert!(!is_fresh(SEQ_HALF, T0, 0, T0));
        // More than 128 s later: fresh whatever the number.
        assert!(!is_fresh(6, T0, 5, T0 + Duration::from_secs(128)));
        assert!(is_fresh(6, T0, 5, T0 + Duration::from_millis(128_001)));
    }

    #[test]
    fn freshness_tracker_drops_reordered_notifications() {
        let mut f = Freshness::new();
        assert!(f.accept(10, T0));
        assert!(f.accept(12, T0 + Duration::from_secs(1)));
        assert!(!f.accept(11, T0 + Duration::from_secs(2)));
        assert!(f.accept(13, T0 + Duration::from_secs(3)));
    }

    type Reg = ObserverRegistry<u8, &'static str, 2>;

    #[test]
    fn register_replaces_same_endpoint_and_token_and_fills_up() {
        let mut r = Reg::default();
        let (a, s0) = r.register(1, b"tk", "/temp", T0).unwrap();
        let (a2, s1) = r.register(1, b"tk", "/hum", T0).unwrap();
        assert_eq!(a, a2);
        assert!(s1 > s0);
        assert_eq!(r.len(), 1);
        assert_eq!(*r.get(a).unwrap().key(), "/hum");
        let (_b, _) = r.register(2, b"tk", "/hum", T0).unwrap();
        assert_eq!(r.register(3, b"x", "/hum", T0), Err(ObserveError::Full));
        assert_eq!(r.register(1, &[0; 9], "/hum", T0), Err(ObserveError::TokenTooLong));
        assert_eq!(r.observers_of(&"/hum").count(), 2);
    }

    #[test]
    fn observe_cancelled_by_get_with_observe_1() {
        let mut r = Reg::default();
        r.register(1, b"tk", "/temp", T0).unwrap();
        assert_eq!(r.deregister(1, b"other"), None);
        assert_eq!(r.deregister(2, b"tk"), None);
        assert_eq!(r.deregister(1, b"tk"), Some("/temp"));
        assert!(r.is_empty());
    }

    #[test]
    fn observe_cancelled_by_rst_matching_notification_mid() {
        let mut r = Reg::default();
        let (id, _) = r.register(1, b"tk", "/temp", T0).unwrap();
        let _ = r.notify(id, T0, false).unwrap();
        r.set_last_mid(id, 0x1234);
        // A RST for another MID or from another peer changes nothing.
        assert_eq!(r.cancel_by_mid(1, 0x1235), None);
        assert_eq!(r.cancel_by_mid(2, 0x1234), None);
        assert_eq!(r.cancel_by_mid(1, 0x1234), Some("/temp"));
        assert!(r.get(id).is_none());
    }

    #[test]
    fn notifications_are_con_at_least_once_per_interval_otherwise_non() {
        let mut r = ObserverRegistry::<u8, u8, 1>::new(Duration::from_secs(60));
        let (id, seq0) = r.register(1, b"t", 0, T0).unwrap();
        let n1 = r.notify(id, T0 + Duration::from_secs(10), false).unwrap();
        assert_eq!(n1, Notification { seq: seq0 + 1, confirmable: false });
        let n2 = r.notify(id, T0 + Duration::from_secs(59), false).unwrap();
        assert!(!n2.confirmable);
        // 60 s after the registration: a CON is due.
        let n3 = r.notify(id, T0 + Duration::from_secs(60), false).unwrap();
        assert!(n3.confirmable);
        // The clock restarts at the CON.
        assert!(!r.notify(id, T0 + Duration::from_secs(119), false).unwrap().confirmable);
        assert!(r.notify(id, T0 + Duration::from_secs(120), false).unwrap().confirmable);
        // The caller may always ask for CON.
        assert!(r.notify(id, T0 + Duration::from_secs(121), true).unwrap().confirmable);
        assert!(r.notify(ObserverId(5), T0, false).is_none());
    }

    #[test]
    fn default_con_interval_is_24_hours() {
        let mut r = ObserverRegistry::<u8, u8, 1>::default();
        let (id, _) = r.register(1, b"t", 0, T0).unwrap();
        assert!(
            !r.notify(id, T0 + (Duration::from_hours(24) - Duration::from_millis(1)), false)
                .unwrap()
                .confirmable
        );
        assert!(r.notify(id, T0 + Duration::from_hours(24), false).unwrap().confirmable);
    }

    #[test]
    fn sequence_numbers_are_24_bit_and_wrap() {
        let mut r = ObserverRegistry::<u8, u8, 1> {
            next_seq: SEQ_MODULUS - 1,
            ..ObserverRegistry::default()
        };
        let (id, s) = r.register(1, b"t", 0, T0).unwrap();
        assert_eq!(s, SEQ_MODULUS - 1);
        let n = r.notify(id, T0, false).unwrap();
        assert_eq!(n.seq, 0);
        // The observer sees the wrapped number as fresh.
        assert!(is_fresh(s, T0, n.seq, T0));
    }
}
