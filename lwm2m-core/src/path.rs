//! LwM2M paths: `/O`, `/O/I`, `/O/I/R`, `/O/I/R/RI`.
