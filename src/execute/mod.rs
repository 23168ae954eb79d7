//! Applying a plan: the executor and the policies it runs by.
//!
//! `retry` classifies answers and times retries, `ratelimit` paces requests at a rate adapted
//! to the service, `bisect` settles one batch (isolating poison ids), `report` tallies what
//! happened. The executor ties them to the API client and the state journal.

pub mod bisect;
pub mod ratelimit;
pub mod report;
pub mod retry;
