//! Shared fixtures: one SIM per operator, as its modem and SIM would report it.
#![allow(dead_code)]

use carrier_profiles::{Carrier, Detected, UserConfig};

pub const IMEI: &str = "352656100367872";
pub const MSISDN: &str = "15551234567";
pub const MODEM_MANUFACTURER: &str = "Nordic Semiconductor ASA";
pub const MODEM_MODEL: &str = "nRF9161";
pub const MODEM_HW: &str = "nRF9161 LACA ADA";
pub const TWO_DID: &str = "2DID0123456789";

/// A SIM of `carrier` (`None`: a SIM of no supported carrier, here Vodafone UK 234-15).
pub fn sim(carrier: Option<Carrier>) -> Detected<'static> {
    let (operator_id, imsi) = match carrier {
        Some(Carrier::Verizon) => (Some(1), "311480000000001"),
        // No %XOPERID value is known for T-Mobile: detected from the IMSI.
        Some(Carrier::TMobile) => (Some(0), "310260000000001"),
        Some(Carrier::SoftBank) => (Some(7), "440200000000001"),
        Some(Carrier::LgUplus) => (Some(10), "450060000000001"),
        Some(Carrier::BellCanada) => (Some(9), "302610000000001"),
        Some(Carrier::Generic) | None => (Some(0), "234150000000001"),
    };
    Detected {
        operator_id,
        imsi: Some(imsi),
        iccid: Some("8944000000000000001"),
        msisdn: Some(MSISDN),
        imei: IMEI,
        smartcard_bootstrap: false,
        manufacturer: MODEM_MANUFACTURER,
        model_number: MODEM_MODEL,
        hardware_version: MODEM_HW,
        sip_2did: Some(TWO_DID),
    }
}

pub fn foreign_sim() -> Detected<'static> {
    sim(None)
}

/// A generic-mode configuration that resolves: custom DM server, PSK in tag 42.
pub fn generic_config() -> UserConfig<'static> {
    UserConfig {
        carriers_enabled: carrier_profiles::CarrierSet::GENERIC,
        server_uri: "coaps://dm.example.com:5684",
        is_bootstrap_server: false,
        server_sec_tag: 42,
        ..UserConfig::default()
    }
}

/// The default configuration plus the LG U+ service code LG U+ operation needs.
pub fn default_config() -> UserConfig<'static> {
    let mut c = UserConfig::default();
    c.lg_uplus.service_code = "ABCDE";
    c
}
