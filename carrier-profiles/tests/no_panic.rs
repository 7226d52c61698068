//! Arbitrary configurations and SIM data never panic, and every error names its field.

use carrier_profiles::{
    Binding, CarrierSet, Detected, EndpointFormat, PdnType, SerialNumberType, ServerSource,
    UserConfig, detect_subscriber, endpoint_name, parse_server_uri, resolve,
};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,40}", "[0-9]{0,20}", "coaps?://[a-z0-9.:\\[\\]]{0,30}", Just(String::new()),]
}

proptest! {
    #[test]
    fn resolve_never_panics_and_errors_name_their_field(
        mask in prop_oneof![any::<u32>(), 0u32..0x80],
        uri in text(), apn in text(), code in text(), imsi in text(), iccid in text(),
        imei in text(), msisdn in text(), two_did in text(),
        bs in any::<bool>(), smart in any::<bool>(), on_sim in any::<bool>(),
        tag in prop_oneof![Just(0u32), any::<u32>()],
        binding in 0u8..8, lifetime in any::<i32>(), idle in -3i32..100_000,
        con in -3i32..100_000, pdn in 0u8..4, serial in 0u8..2, op in any::<Option<u8>>(),
    ) {
        let mut cfg = UserConfig {
            carriers_enabled: CarrierSet(mask),
            bootstrap_from_smartcard: smart,
            is_bootstrap_server: bs,
            server_uri: &uri,
            server_sec_tag: tag,
            server_binding: Binding(binding),
            server_lifetime_s: lifetime,
            session_idle_timeout_s: idle,
            coap_con_interval_s: con,
            apn: &apn,
            pdn_type: PdnType::from_raw(pdn).unwrap(),
            ..UserConfig::default()
        };
        cfg.lg_uplus.service_code = &code;
        cfg.lg_uplus.device_serial_no_type = SerialNumberType::from_raw(serial).unwrap();
        let det = Detected {
            operator_id: op,
            imsi: Some(&imsi),
            iccid: Some(&iccid),
            msisdn: Some(&msisdn),
            imei: &imei,
            smartcard_bootstrap: on_sim,
            sip_2did: Some(&two_did),
            ..Detected::default()
        };
        let _ = detect_subscriber(&det);
        match resolve(&cfg, &det) {
            Ok(e) => {
                // Only SIM bootstrap data or a non-IP server go without a URI.
                if e.server.uri.is_none() {
                    prop_assert!(
                        e.server.source == ServerSource::Smartcard
                            || e.server.binding == Some(Binding::NON_IP)
                    );
                }
                let _ = e.endpoint_name(&det);
            }
            Err(err) => {
                let text = err.to_string();
                prop_assert!(
                    text.contains(err.field().name()) || text.contains("server binding"),
                    "{} does not name {}", text, err.field()
                );
            }
        }
    }

    #[test]
    fn uri_and_endpoint_parsers_never_panic(s in ".{0,80}", m in proptest::option::of(".{0,20}")) {
        let _ = parse_server_uri(&s);
        let _ = endpoint_name(EndpointFormat::UrnImei, &s, m.as_deref());
        let _ = endpoint_name(EndpointFormat::UrnImeiMsisdn, &s, m.as_deref());
    }
}
