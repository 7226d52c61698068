//! What each operator's Bootstrap-Server provisions: the per-operator
//! [`BootstrapPlan`]s a test server acts out, so a device with that
//! operator's SIM can be taken from first boot to registered against
//! "its" operator (issue 10, scenario 6; `carriers.md` §3–§8).
//!
//! Guarantee: every plan provisions exactly one device-management account
//! (Security + Server instance, PSK when given, Access Control for what
//! the DM server manages), with the operator's Short Server ID, lifetime,
//! binding and default notification periods, plus the operator's extra
//! Bootstrap-Writes. The runtime registers with that one account.
//!
//! Most of these values are not public for any operator but Verizon
//! (`carriers.md` §14). Where the reference marks a value **unconfirmed**,
//! the plan uses what a certified product must cope with and says so on
//! the item: the LwM2M defaults (lifetime 1 h, binding `U`, SSID 101)
//! unless the operator's known layout says otherwise.

use lwm2m_core::coap::numbers::ContentFormat;
use lwm2m_core::path::Path;
use lwm2m_core::value::Value;

use crate::{BootstrapPlan, ServerAccount, encode_tlv};

/// The operators of `carriers.md` §2 that the library supports today
/// (AT&T was removed, §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// Verizon (`%XOPERID` 1, MCC-MNC 311-480).
    Verizon,
    /// T-Mobile US (no `%XOPERID` value; MCC-MNC 310-260).
    TMobile,
    /// SoftBank (`%XOPERID` 7, MCC-MNC 440-20).
    SoftBank,
    /// LG U+ (`%XOPERID` 10, MCC-MNC 450-06).
    LgUplus,
    /// Bell Canada (`%XOPERID` 9, MCC-MNC 302-610).
    BellCanada,
    /// Generic mode: the custom server of the configuration.
    Generic,
}

impl Operator {
    /// All six, in the order of `carriers.md` §2.
    pub const ALL: [Operator; 6] = [
        Operator::Verizon,
        Operator::TMobile,
        Operator::SoftBank,
        Operator::LgUplus,
        Operator::BellCanada,
        Operator::Generic,
    ];

    /// What this operator's servers do.
    pub fn profile(self) -> &'static OperatorServer {
        match self {
            Operator::Verizon => &VERIZON,
            Operator::TMobile => &T_MOBILE,
            Operator::SoftBank => &SOFTBANK,
            Operator::LgUplus => &LG_UPLUS,
            Operator::BellCanada => &BELL_CANADA,
            Operator::Generic => &GENERIC,
        }
    }
}

/// How one operator's Bootstrap-Server provisions the DM account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatorServer {
    /// Short Server ID of the DM server.
    pub dm_ssid: u16,
    /// Registration lifetime (s) written to the Server instance.
    pub lifetime_s: u32,
    /// Binding written to the Server instance.
    pub binding: &'static str,
    /// Default Minimum Period (1/x/2), if the operator writes one.
    pub default_pmin_s: Option<u32>,
    /// Default Maximum Period (1/x/3), if the operator writes one.
    pub default_pmax_s: Option<u32>,
    /// The APN written to APN Connection Profile instance 0 (object 11,
    /// resource 1 "APN"), if the operator provisions one.
    pub apn_profile: Option<&'static str>,
}

/// The LwM2M defaults an operator server is assumed to use where nothing is
/// public: SSID 101, lifetime 1 h, binding `U`, no default periods, no APN.
pub const LWM2M_DEFAULTS: OperatorServer = OperatorServer {
    dm_ssid: 101,
    lifetime_s: 3600,
    binding: "U",
    default_pmin_s: None,
    default_pmax_s: None,
    apn_profile: None,
};

/// Verizon (`carriers.md` §4): the DM server is SSID 102; the
/// Bootstrap-Server also provisions the class-2 admin APN `VZWADMIN`
/// the early library used for device management. The diagnostics server
/// (SSID 101) is the client's own factory account and the repository
/// server (1000) serves FOTA only, so neither is part of the plan (see
/// [`verizon_diagnostics`]). DM lifetime: **unconfirmed**; 1 h.
pub const VERIZON: OperatorServer =
    OperatorServer { dm_ssid: 102, apn_profile: Some("VZWADMIN"), ..LWM2M_DEFAULTS };

/// T-Mobile US (`carriers.md` §5): nothing public; LwM2M defaults
/// (**unconfirmed**).
pub const T_MOBILE: OperatorServer = LWM2M_DEFAULTS;

/// SoftBank (`carriers.md` §6): the sample runs NB-IoT with a non-IP PDN,
/// which suggests binding `N` (**unconfirmed**); over IP (this server)
/// the account is `UQ` (queue mode), as an NB-IoT device sleeps between
/// exchanges.
pub const SOFTBANK: OperatorServer = OperatorServer { binding: "UQ", ..LWM2M_DEFAULTS };

/// LG U+ (`carriers.md` §7): nothing public about the server
/// (**unconfirmed**); LwM2M defaults. The device bootstraps at every start.
pub const LG_UPLUS: OperatorServer = LWM2M_DEFAULTS;

/// Bell Canada (`carriers.md` §8): nothing public (**unconfirmed**); LwM2M
/// defaults.
pub const BELL_CANADA: OperatorServer = LWM2M_DEFAULTS;

/// Generic mode (`carriers.md` §3): the custom server, factory lifetime 1 h,
/// binding `U`.
pub const GENERIC: OperatorServer = LWM2M_DEFAULTS;

/// The plan `operator`'s Bootstrap-Server runs: one DM account at `dm_uri`
/// with the operator's SSID, lifetime, binding and default periods, PSK
/// `(identity, key)` when given (`coaps://`), and the operator's extra
/// writes.
pub fn plan_for(operator: Operator, dm_uri: &str, psk: Option<(&[u8], &[u8])>) -> BootstrapPlan {
    let p = operator.profile();
    let mut account = ServerAccount::new(dm_uri, p.dm_ssid, p.lifetime_s);
    if let Some((identity, key)) = psk {
        account = account.with_psk(identity, key);
    }
    // Queue mode as the binding letter `Q` (`UQ`) of the operator's table,
    // which the client reads.
    account.binding = p.binding.into();
    account.default_pmin_s = p.default_pmin_s;
    account.default_pmax_s = p.default_pmax_s;
    let mut extra = Vec::new();
    if let (Some(apn), Ok(instance)) = (p.apn_profile, Path::instance(11, 0)) {
        // APN Connection Profile (11.xml): 0 Profile name, 1 APN, 3 Enable
        // status, 4 Authentication Type (mandatory; 3 = none).
        let resources = [
            (0u16, Value::String(apn)),
            (1, Value::String(apn)),
            (3, Value::Boolean(true)),
            (4, Value::Integer(3)),
        ];
        extra.push((instance, ContentFormat::Lwm2mTlv, encode_tlv(&instance, &resources)));
    }
    BootstrapPlan { accounts: vec![account], extra }
}

/// The Verizon diagnostics server account (`carriers.md` §4, [E]): SSID
/// 101, lifetime 86400 s, pmin 300 s, pmax 6000 s, binding `UQS`
/// (queue mode, with SMS), for a test server acting as that server.
pub fn verizon_diagnostics(uri: &str) -> ServerAccount {
    let mut account = ServerAccount::new(uri, 101, 86_400);
    account.security_instance = 2;
    account.server_instance = 1;
    account.binding = "UQS".into();
    account.default_pmin_s = Some(300);
    account.default_pmax_s = Some(6000);
    account
}

#[cfg(test)]
mod tests {
    use super::*;
    use lwm2m_core::coap::numbers::Code;

    #[test]
    fn every_plan_provisions_one_dm_account_with_the_operators_values() {
        for op in Operator::ALL {
            let plan = plan_for(op, "coaps://127.0.0.1:5684", Some((b"id", b"key")));
            assert_eq!(plan.accounts.len(), 1, "{op:?}");
            let a = &plan.accounts[0];
            assert_eq!(a.ssid, op.profile().dm_ssid, "{op:?}");
            assert_eq!(a.lifetime_s, op.profile().lifetime_s, "{op:?}");
            assert!(matches!(a.security, crate::SecurityMode::Psk { .. }), "{op:?}");
        }
        assert_eq!(plan_for(Operator::Verizon, "coap://x", None).accounts[0].ssid, 102);
        let softbank = &plan_for(Operator::SoftBank, "coap://x", None).accounts[0];
        assert_eq!((softbank.binding.as_str(), softbank.queue_mode), ("UQ", false));
    }

    #[test]
    fn verizon_writes_the_admin_apn_after_the_accounts() {
        let steps = plan_for(Operator::Verizon, "coap://x", None).steps();
        let last = steps.last().unwrap();
        assert_eq!((last.code, last.path), (Code::Put, Path::instance(11, 0).unwrap()));
        assert!(last.payload.windows(8).any(|w| w == b"VZWADMIN"));
        assert!(plan_for(Operator::Generic, "coap://x", None).extra.is_empty());
    }
}
