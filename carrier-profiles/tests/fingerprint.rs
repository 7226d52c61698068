//! The server-options fingerprint changes when any server option changes, and not otherwise.

mod common;

use carrier_profiles::{
    Binding, CarrierSet, PdnType, ServerOptions, UserConfig, server_options_fingerprint,
};

fn base() -> UserConfig<'static> {
    UserConfig {
        server_uri: "coaps://example.com:5684",
        is_bootstrap_server: false,
        server_sec_tag: 42,
        server_lifetime_s: 3600,
        server_binding: Binding::UDP,
        ..UserConfig::default()
    }
}

#[test]
fn fingerprint_is_pinned_across_versions_and_platforms() {
    // Computed independently (Python, FNV-1a 64 over the documented byte layout).
    assert_eq!(base().server_options_fingerprint(), 0x23cf_dd50_215c_0999);
    assert_eq!(UserConfig::default().server_options_fingerprint(), 0x0549_de28_99c0_b6b5);
}

#[test]
fn fingerprint_changes_when_any_server_option_changes() {
    let b = base();
    let changed: [(&str, UserConfig<'static>); 10] = [
        ("uri", UserConfig { server_uri: "coaps://example.com:5685", ..b }),
        ("uri emptied", UserConfig { server_uri: "", ..b }),
        ("uri case", UserConfig { server_uri: "coaps://Example.com:5684", ..b }),
        ("is_bootstrap_server", UserConfig { is_bootstrap_server: true, ..b }),
        ("sec tag", UserConfig { server_sec_tag: 43, ..b }),
        ("sec tag to 0", UserConfig { server_sec_tag: 0, ..b }),
        ("lifetime", UserConfig { server_lifetime_s: 3601, ..b }),
        ("lifetime to 0", UserConfig { server_lifetime_s: 0, ..b }),
        ("binding", UserConfig { server_binding: Binding::NON_IP, ..b }),
        ("binding factory", UserConfig { server_binding: Binding::FACTORY, ..b }),
    ];
    let reference = b.server_options_fingerprint();
    for (what, cfg) in changed {
        assert_ne!(cfg.server_options_fingerprint(), reference, "{what}");
    }
}

#[test]
fn fingerprint_ignores_everything_but_the_server_options() {
    let b = base();
    let mut device = b;
    device.device.manufacturer = "ACME";
    device.lg_uplus.service_code = "ABCDE";
    let unchanged: [(&str, UserConfig<'static>); 10] = [
        ("carriers", UserConfig { carriers_enabled: CarrierSet::GENERIC, ..b }),
        ("smartcard", UserConfig { bootstrap_from_smartcard: false, ..b }),
        ("idle", UserConfig { session_idle_timeout_s: -1, ..b }),
        ("con", UserConfig { coap_con_interval_s: 60, ..b }),
        ("fw timeout", UserConfig { firmware_download_timeout_min: 10, ..b }),
        ("apn", UserConfig { apn: "iot", pdn_type: PdnType::NonIp, ..b }),
        ("queue", UserConfig { disable_queue_mode: true, ..b }),
        ("auto register", UserConfig { disable_auto_register: true, ..b }),
        ("auto startup", UserConfig { auto_startup: true, ..b }),
        ("device and lg u+", device),
    ];
    let reference = b.server_options_fingerprint();
    for (what, cfg) in unchanged {
        assert_eq!(cfg.server_options_fingerprint(), reference, "{what}");
    }
}

#[test]
fn fields_cannot_bleed_into_each_other() {
    // The URI is length-prefixed: moving bytes between the URI and the next field changes it.
    let a = ServerOptions {
        server_uri: "coap://a",
        is_bootstrap_server: true,
        server_sec_tag: 0,
        server_lifetime_s: 0,
        server_binding: Binding::FACTORY,
    };
    let b = ServerOptions { server_uri: "coap://a\u{1}", is_bootstrap_server: false, ..a };
    assert_ne!(server_options_fingerprint(&a), server_options_fingerprint(&b));
}
