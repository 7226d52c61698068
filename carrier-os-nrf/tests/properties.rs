//! Property tests: arbitrary modem output never panics the AT layer, and
//! values survive the trip through their AT text.

use carrier_os_nrf::at::types::{self, AccessTechnology, PdnType, RegistrationStatus};
use carrier_os_nrf::at::{Command, CommandLine, Response, Urc};
use proptest::prelude::*;

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_any_parser(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(r) = Response::parse(&data) {
            let _ = types::parse_imei(&r);
            let _ = types::parse_iccid(&r);
            let _ = types::parse_msisdn(&r);
            let _ = types::parse_cereg_read(&r);
            for _ in types::pdn_contexts(&r) {}
            let _ = types::parse_pdn_addresses(&r);
            let _ = types::parse_monitor(&r);
            let _ = types::parse_cesq(&r);
            let _ = types::parse_nordic_clock(&r);
            for _ in types::credentials(&r) {}
            let _ = types::parse_crsm(&r);
            let _ = types::parse_conn_stats(&r);
        }
        if let Ok(s) = core::str::from_utf8(&data) {
            let _ = Urc::parse(s);
        }
    }

    #[test]
    fn arbitrary_sms_pdus_never_panic(pdu in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut out = [0u8; 160];
        if let Ok(d) = carrier_os_nrf::at::sms::parse_deliver(&pdu, &mut out) {
            prop_assert!(d.len <= out.len());
        }
    }

    #[test]
    fn apn_round_trips_through_cgdcont(cid in 0u8..12, apn in "[a-zA-Z0-9.,-]{0,100}") {
        let mut line = CommandLine::new();
        Command::DefinePdn { cid, pdn_type: PdnType::Ipv4, apn: &apn }.emit(&mut line).unwrap();
        let params = line.strip_prefix("AT+CGDCONT=").unwrap();
        let rsp = format!("+CGDCONT: {params},\"10.0.0.1\",0,0\r\nOK\r\n");
        let r = Response::parse(rsp.as_bytes()).unwrap();
        let ctx = types::pdn_contexts(&r).next().unwrap().unwrap();
        prop_assert_eq!(ctx.cid, cid);
        prop_assert_eq!(ctx.pdn_type, Some(PdnType::Ipv4));
        prop_assert_eq!(ctx.apn.as_str(), apn.as_str());
    }

    #[test]
    fn cereg_notification_round_trips(
        stat in prop_oneof![Just(0u8), Just(1), Just(2), Just(3), Just(4), Just(5), Just(90)],
        tac in any::<u16>(),
        ci in 0u32..0x1000_0000,
        act in prop_oneof![Just(7u8), Just(9)],
        tau in any::<u8>(),
    ) {
        let line = format!("+CEREG: {stat},\"{tac:04X}\",\"{ci:08X}\",{act},,,\"00000000\",\"{tau:08b}\"");
        let Ok(Urc::Registration(r)) = Urc::parse(&line) else { panic!("{line}") };
        prop_assert_eq!(r.status, RegistrationStatus::from(stat));
        prop_assert_eq!(r.tac, Some(tac));
        prop_assert_eq!(r.cell_id, Some(ci));
        prop_assert_eq!(r.act, Some(AccessTechnology::from(act)));
        prop_assert_eq!(r.periodic_tau, Some(tau));
    }

    #[test]
    fn network_time_round_trips_and_matches_a_reference_calendar(
        yy in 0u16..100, month in 1u8..=12, day in 1u8..=28,
        hour in 0u8..24, minute in 0u8..60, second in 0u8..60, tz in -48i8..=48,
    ) {
        let sign = if tz < 0 { '-' } else { '+' };
        let line = format!(
            "%CCLK: \"{yy:02}/{month:02}/{day:02},{hour:02}:{minute:02}:{second:02}{sign}{:02}\",0\r\nOK\r\n",
            tz.unsigned_abs()
        );
        let r = Response::parse(line.as_bytes()).unwrap();
        let t = types::parse_nordic_clock(&r).unwrap();
        prop_assert_eq!((t.year, t.month, t.day), (2000 + yy, month, day));
        prop_assert_eq!(t.tz_quarters, Some(tz));
        // Reference: count days with a plain loop over months.
        let mut days: i64 = 0;
        for y in 1970..i64::from(2000 + yy) {
            days += if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 { 366 } else { 365 };
        }
        let y = i64::from(2000 + yy);
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        days += month_days[..usize::from(month) - 1].iter().sum::<i64>() + i64::from(day) - 1;
        let expected = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60
            + i64::from(second) - i64::from(tz) * 900;
        prop_assert_eq!(t.unix_seconds(), expected);
    }
}
