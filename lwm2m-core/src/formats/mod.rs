//! LwM2M content formats: text/plain, opaque, CoRE link format, TLV, SenML
//! JSON, SenML CBOR, LwM2M CBOR, and LwM2M JSON (reading).
