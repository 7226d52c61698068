//! TEMPORARY stand-in for lwm2m_server::Server until the sans-IO core lands.
#![allow(missing_docs, dead_code)]
use lwm2m_core::time::Instant;
use lwm2m_server::{Registration, Request, ServerConfig, ServerEvent};
use std::net::SocketAddr;
pub struct Ticket(pub u64);
pub struct Server {
    regs: Vec<Registration>,
}
impl Server {
    pub fn new(_: ServerConfig) -> Server {
        Server { regs: vec![] }
    }
    pub fn handle_datagram(&mut self, _: Instant, _: SocketAddr, _: &[u8]) {}
    pub fn handle_timeout(&mut self, _: Instant) {}
    pub fn poll_transmit(&mut self, _: Instant, _: &mut [u8]) -> Option<(SocketAddr, usize)> {
        None
    }
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    pub fn request(&mut self, _: Instant, _: &str, _: Request) -> Ticket {
        Ticket(0)
    }
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        None
    }
    pub fn registrations(&self) -> impl Iterator<Item = &Registration> {
        self.regs.iter()
    }
}
