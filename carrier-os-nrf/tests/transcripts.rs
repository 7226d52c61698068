//! Transcript tests: every command group of the AT layer, driven through
//! `AtModem` against modem transcripts written from the nRF91 AT Commands
//! reference, including error results, interleaved notifications and
//! garbage. Each test ends with `finish()`: the port sent exactly the
//! scripted commands, in order.

use carrier_os_nrf::at::types::{
    AccessTechnology, CredentialEntry, CredentialType, FunctionalMode, PdnType, Plmn,
    RegistrationStatus,
};
use carrier_os_nrf::at::{CeregReporting, Final, ResponseError, Urc};
use carrier_os_nrf::modem::{AtError, AtModem, CredentialError};
use carrier_os_nrf::transcript::Transcript;

fn modem(script: &'static str) -> AtModem<Transcript<'static>> {
    AtModem::new(Transcript::new(script))
}

fn done(m: &AtModem<Transcript<'static>>) {
    m.channel().finish().expect("every scripted command was sent");
}

#[test]
fn identity_reads_every_item() {
    let mut m = modem(include_str!("transcripts/identity.txt"));
    assert_eq!(m.imei().unwrap(), "352656100367872");
    assert_eq!(m.imsi().unwrap(), "244070000000000");
    assert_eq!(m.iccid().unwrap(), "8901234567012345678F");
    assert_eq!(m.msisdn().unwrap().unwrap(), "+1234567891234");
    assert_eq!(m.manufacturer().unwrap(), "Nordic Semiconductor ASA");
    assert_eq!(m.model().unwrap(), "nRF9160-SICA");
    assert_eq!(m.firmware_version().unwrap(), "mfw_nrf9160_1.3.5");
    assert_eq!(m.hardware_version().unwrap(), "nRF9160 SICA B1A");
    assert_eq!(m.two_did().unwrap().unwrap(), "F4CE36000001");
    done(&m);
}

#[test]
fn identity_errors_are_typed() {
    let mut m = modem(include_str!("transcripts/identity_errors.txt"));
    assert_eq!(m.imsi(), Err(AtError::Rejected(Final::CmeError(10))));
    assert_eq!(m.iccid().unwrap_err().cme(), Some(carrier_os_nrf::at::Cme::SimNotInserted));
    assert_eq!(m.msisdn(), Ok(None), "no +CNUM line means no number");
    assert_eq!(m.two_did(), Ok(None), "ERROR means the firmware does not offer %2DID");
    assert_eq!(m.imei(), Err(AtError::Response(ResponseError::BadField { index: 0 })));
    assert_eq!(m.model(), Err(AtError::Response(ResponseError::Incomplete)));
    done(&m);
}

#[test]
fn functional_mode_and_registration_notifications() {
    let mut m = modem(include_str!("transcripts/cfun_cereg.txt"));
    assert_eq!(m.functional_mode().unwrap(), FunctionalMode::Offline);
    m.set_registration_reporting(CeregReporting::LocationCausePsm).unwrap();
    m.set_functional_mode(FunctionalMode::Normal).unwrap();
    let mut buf = [0u8; 128];
    let searching = m.poll_notification(&mut buf).map(|b| b.to_vec()).unwrap();
    let Ok(Urc::Registration(r)) = Urc::parse(core::str::from_utf8(&searching).unwrap()) else {
        panic!("not a registration")
    };
    assert_eq!(r.status, RegistrationStatus::Searching);
    let home = m.poll_notification(&mut buf).map(|b| b.to_vec()).unwrap();
    let Ok(Urc::Registration(r)) = Urc::parse(core::str::from_utf8(&home).unwrap()) else {
        panic!("not a registration")
    };
    assert_eq!(r.status, RegistrationStatus::Home);
    assert_eq!(r.periodic_tau, Some(0b0001_1110));
    assert!(m.poll_notification(&mut buf).is_none());

    let read = m.registration().unwrap();
    assert_eq!(read.status, RegistrationStatus::Home);
    assert_eq!(read.tac, Some(0x002f));
    assert_eq!(read.cell_id, Some(0x0012_beef));
    assert_eq!(read.act, Some(AccessTechnology::LteM));

    let denied = m.poll_notification(&mut buf).map(|b| b.to_vec()).unwrap();
    let Ok(Urc::Registration(r)) = Urc::parse(core::str::from_utf8(&denied).unwrap()) else {
        panic!("not a registration")
    };
    assert_eq!(r.status, RegistrationStatus::Denied);
    assert_eq!(r.reject_cause, Some((0, 15)), "EMM cause 15: no suitable cells");
    m.set_functional_mode(FunctionalMode::Offline).unwrap();
    done(&m);
}

#[test]
fn pdn_define_activate_read_and_reject() {
    let mut m = modem(include_str!("transcripts/pdn.txt"));
    let cid = m.new_cid().unwrap();
    assert_eq!(cid, 1);
    m.define_pdn(cid, PdnType::Ipv4v6, "iot.example").unwrap();
    m.activate_pdn(cid, true).unwrap();
    let mut buf = [0u8; 64];
    let ev = m.poll_notification(&mut buf).map(|b| b.to_vec()).unwrap();
    assert_eq!(
        Urc::parse(core::str::from_utf8(&ev).unwrap()),
        Ok(Urc::Pdn(carrier_os_nrf::at::PdnEvent::Activated(1)))
    );
    let ctx = m.pdn_context(1).unwrap().unwrap();
    assert_eq!(ctx.pdn_type, Some(PdnType::Ipv4v6));
    assert_eq!(ctx.apn, "iot.example");
    assert!(m.pdn_active(1).unwrap());
    assert_eq!(m.pdn_id(1).unwrap(), 2);
    let addrs = m.pdn_addresses(1).unwrap();
    assert_eq!(addrs.ipv4, Some("10.0.1.2".parse().unwrap()));
    assert_eq!(addrs.ipv6, Some("1050::5:600:300c:326b".parse().unwrap()));
    m.activate_pdn(1, false).unwrap();
    assert_eq!(m.activate_pdn(2, true), Err(AtError::Rejected(Final::CmeError(33))));
    done(&m);
}

#[test]
fn serving_cell_signal_and_band() {
    let mut m = modem(include_str!("transcripts/radio.txt"));
    let mon = m.monitor().unwrap();
    assert_eq!(mon.status, RegistrationStatus::Home);
    let cell = mon.cell.unwrap();
    assert_eq!(cell.operator_full, "EDAV");
    assert_eq!(cell.plmn, Plmn { mcc: 262, mnc: 95, mnc_three_digits: false });
    assert_eq!(cell.tac, 0x00b7);
    assert_eq!(cell.act, AccessTechnology::LteM);
    assert_eq!(cell.band, 4);
    assert_eq!(cell.cell_id, 0x0001_1b07);
    assert_eq!(cell.phys_cell_id, 7);
    assert_eq!(cell.earfcn, 2300);
    assert_eq!(cell.rsrp_dbm, Some(63 - 140));
    assert_eq!(cell.snr_db, Some(39 - 24));
    assert_eq!(m.signal_quality().unwrap(), (Some(31), Some(62 - 140)));
    assert_eq!(m.snr().unwrap(), Some(15));
    assert_eq!(m.band().unwrap(), Some(13));
    let idle = m.monitor().unwrap();
    assert_eq!(idle.status, RegistrationStatus::Searching);
    assert_eq!(idle.cell, None);
    assert_eq!(m.band().unwrap(), None);
    done(&m);
}

#[test]
fn network_time_prefers_cclk_percent_and_falls_back() {
    let mut m = modem(include_str!("transcripts/time.txt"));
    let t = m.network_time().unwrap().unwrap();
    assert_eq!((t.year, t.month, t.day, t.hour, t.minute, t.second), (2002, 5, 7, 14, 8, 17));
    assert_eq!(t.dst_hours, Some(2));
    assert_eq!(t.unix_seconds(), 1_020_780_497); // 2002-05-07T14:08:17Z
    let t = m.network_time().unwrap().unwrap();
    assert_eq!(t.tz_quarters, Some(8));
    assert_eq!(t.dst_hours, None);
    assert_eq!(m.network_time(), Ok(None));
    assert_eq!(m.network_time(), Err(AtError::Response(ResponseError::BadField { index: 0 })));
    done(&m);
}

#[test]
fn credentials_written_offline_refused_while_active() {
    let mut m = modem(include_str!("transcripts/credentials.txt"));
    let psk: Vec<u8> = (0..16).collect();
    m.write_psk(25, &psk).unwrap();
    m.write_psk_identity(25, "urn:imei:352656100367872").unwrap();
    assert!(m.credential_exists(25, CredentialType::Psk).unwrap());
    let mut all = Vec::new();
    m.list_credentials(|e| all.push(e)).unwrap();
    assert_eq!(
        all,
        [
            CredentialEntry { tag: 16_842_753, kind: CredentialType::RootCa },
            CredentialEntry { tag: 25, kind: CredentialType::Psk },
            CredentialEntry { tag: 25, kind: CredentialType::PskIdentity },
        ]
    );
    // +CFUN: 1: refused before any %CMNG is sent (the transcript has none).
    assert_eq!(m.write_psk(25, &psk), Err(CredentialError::LinkActive));
    // +CME ERROR: 518 from the modem itself is the same typed error.
    assert_eq!(m.delete_credential(25, CredentialType::Psk), Err(CredentialError::LinkActive));
    assert_eq!(m.delete_credential(99, CredentialType::Psk), Err(CredentialError::NotFound));
    assert_eq!(m.write_psk(26, &[0xaa]), Err(CredentialError::MemoryFull));
    // Checked before any command: nothing in the transcript for these.
    assert_eq!(m.write_psk(1, &[0; 65]), Err(CredentialError::TooLong));
    assert_eq!(m.write_psk(1, &[]), Err(CredentialError::TooLong));
    done(&m);
}

#[test]
fn sim_files_read_by_binary_and_record_with_status_words() {
    let mut m = modem(include_str!("transcripts/sim.txt"));
    let mut out = [0u8; 64];
    let n = m.sim_read_binary(28539, "", 0, 12, &mut out).unwrap();
    assert_eq!(
        &out[..n],
        &[0x64, 0xf0, 0x10, 0x64, 0xf0, 0x40, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
    );
    let n = m.sim_read_record(28480, "3F007FFF", 1, 28, &mut out).unwrap();
    assert_eq!(n, 28);
    assert_eq!(&out[14..22], &[0x07, 0x91, 0x13, 0x26, 0x04, 0x00, 0x00, 0xf0]);
    assert_eq!(
        m.sim_read_binary(28672, "", 0, 8, &mut out),
        Err(AtError::SimStatus { sw1: 0x6a, sw2: 0x82 })
    );
    assert_eq!(
        m.sim_read_binary(28539, "", 0, 2, &mut out),
        Err(AtError::Response(ResponseError::BadField { index: 2 }))
    );
    done(&m);
}

#[test]
fn connection_statistics_and_sms() {
    let mut m = modem(include_str!("transcripts/connstat_sms.txt"));
    m.set_conn_stats(true).unwrap();
    let s = m.conn_stats().unwrap();
    assert_eq!((s.sms_tx, s.sms_rx, s.data_tx_kb, s.data_rx_kb), (2, 3, 45, 60));
    assert_eq!((s.packet_max, s.packet_average), (708, 650));
    m.enable_sms().unwrap();
    let mut buf = [0u8; 256];
    let sms = m.poll_notification(&mut buf).map(|b| b.to_vec()).unwrap();
    let Ok(Urc::Sms { tpdu_len, pdu_hex }) = Urc::parse(core::str::from_utf8(&sms).unwrap()) else {
        panic!("not an SMS")
    };
    assert_eq!(tpdu_len, 24);
    assert!(pdu_hex.starts_with("07919730071111F1"));
    let pdu = "0001000B919730123456F800000548656C6C6F";
    assert_eq!(m.send_sms(18, pdu), Ok(7));
    assert_eq!(m.send_sms(18, pdu), Err(AtError::Rejected(Final::CmsError(500))));
    done(&m);
}

#[test]
fn a_command_the_transcript_does_not_expect_is_a_channel_error() {
    let mut m = modem(include_str!("transcripts/identity.txt"));
    assert_eq!(
        m.imsi(),
        Err(AtError::Channel(carrier_os_nrf::channel::ChannelError::Unexpected { step: 0 }))
    );
}

#[test]
fn nrf_modem_maps_trait_calls_to_at() {
    use carrier_os::modem::{
        Bearer, LinkState, Modem, ModemError, PdnConfig, PdnId, PdnState, PdnType as OsPdn,
        SimFile, SimRead,
    };
    use carrier_os_nrf::port::NrfModem;

    let mut m = NrfModem::new(modem(include_str!("transcripts/port_mapping.txt")));
    m.request_link(carrier_os::modem::LinkRequest::Up).unwrap();
    assert_eq!(m.link_state(), LinkState::Up { roaming: true });
    assert_eq!(m.pdn_state(PdnId::DEFAULT), PdnState::Active(OsPdn::Ipv4), "family from +CGDCONT");

    let admin = m.pdn_activate(&PdnConfig { apn: Some("vzwadmin"), pdn_type: OsPdn::Ipv4v6 });
    assert_eq!(admin, Ok(PdnId(1)));
    assert_eq!(m.pdn_state(PdnId(1)), PdnState::Active(OsPdn::Ipv4v6));
    let bad = m.pdn_activate(&PdnConfig { apn: Some("bad.apn"), pdn_type: OsPdn::Ipv4 }).unwrap();
    assert_eq!(m.pdn_state(bad), PdnState::Rejected { esm_cause: 27 }, "ESM cause 27: unknown APN");

    let info = m.network_info().unwrap();
    assert_eq!(m.pdn_state(PdnId(1)), PdnState::Inactive, "+CGEV deactivation was applied");
    assert_eq!((info.mcc, info.mnc, info.tac, info.cell_id), (310, 410, 0x1a2b, 0x01a2_b3c4));
    assert_eq!(info.bearer, Some(Bearer::NbIot));
    assert_eq!(info.band, Some(20));
    assert_eq!((info.rsrp_dbm, info.snr_db), (None, None), "255 and 127 mean not measured");
    assert_eq!(info.ip_addresses.as_slice(), ["10.1.2.3".parse::<core::net::IpAddr>().unwrap()]);

    let t = m.network_time().unwrap();
    // 2024-02-29T23:30:00 at UTC-5h = 2024-03-01T04:30:00Z.
    assert_eq!(t.unix_s, 1_709_267_400);
    assert_eq!(t.utc_offset_min, -300);

    let mut buf = [0u8; 9];
    let imsi = SimFile { path: &[0x3F00, 0x7FFF, 0x6F07], read: SimRead::Binary { offset: 0 } };
    assert_eq!(m.sim_read(&imsi, &mut buf), Ok(9));
    assert_eq!(buf, [0x08, 0x29, 0x26, 0x24, 0, 0, 0, 0, 0]);
    let mut rec = [0u8; 28];
    let msisdn = SimFile { path: &[0x3F00, 0x7FFF, 0x6F40], read: SimRead::Record { number: 3 } };
    assert_eq!(m.sim_read(&msisdn, &mut rec), Err(ModemError::SimStatus { sw1: 0x6a, sw2: 0x83 }));

    m.restart().unwrap();
    assert_eq!(m.link_state(), LinkState::Down);
    m.at().channel().finish().unwrap();
}

#[test]
fn received_sms_are_decoded_with_originator_and_port() {
    use carrier_os::modem::Modem;
    use carrier_os_nrf::port::NrfModem;

    let mut m = NrfModem::new(modem(include_str!("transcripts/sms_receive.txt")));
    m.at().enable_sms().unwrap();
    let mut buf = [0u8; 64];
    let first = m.sms_receive(&mut buf).unwrap().unwrap();
    assert_eq!(first.originator, "+79032143658");
    assert_eq!(&buf[..first.len], b"Hello");
    assert_eq!(first.app_port, None);
    let second = m.sms_receive(&mut buf).unwrap().unwrap();
    assert_eq!(second.originator, "12345");
    assert_eq!(second.app_port, Some(0x1634), "UDH IEI 5: destination port 5684");
    assert_eq!(&buf[..second.len], &[1, 2]);
    assert_eq!(m.sms_receive(&mut buf), Ok(None));
    m.at().channel().finish().unwrap();
}
