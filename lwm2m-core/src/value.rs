//! The LwM2M 1.1 data types (OMA-TS-LightweightM2M_Core, Appendix C).
