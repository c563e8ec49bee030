//! Throttles at the door, before any other work: failed authentications per client address,
//! and requests per token. Both are governor's GCRA limiters, keyed; a refusal is 429 with
//! `Retry-After`.
//!
//! The client address is the TCP peer's (an IPv6 peer counts as its /64, what one host is
//! usually given); behind a reverse proxy every client shares the proxy's address. Only
//! failures count against an address, so a valid token is never refused because others
//! fail from the same address; an address past its budget gets 429 instead of 401.
//! Limiter state is kept per key seen recently: [`Throttle::forget_idle`] drops keys whose
//! budget is full again.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::StatusCode;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use utoipa::openapi::path::Operation;
use utoipa::openapi::{HeaderBuilder, OpenApi};
use utoipa::openapi::{Ref, ResponseBuilder};

use crate::http::problem::Problem;

/// The throttles' budgets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests one token may send per second, sustained and in a burst.
    pub requests_per_token_per_second: NonZeroU32,
    /// Failed authentications one client address may make per minute, sustained and in
    /// a burst.
    pub failed_authentications_per_address_per_minute: NonZeroU32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            requests_per_token_per_second: NonZeroU32::new(300).expect("not zero"),
            failed_authentications_per_address_per_minute: NonZeroU32::new(120).expect("not zero"),
        }
    }
}

pub struct Throttle {
    limits: RateLimits,
    failures: DefaultKeyedRateLimiter<IpAddr>,
    requests: DefaultKeyedRateLimiter<String>,
}

impl Throttle {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            failures: RateLimiter::keyed(Quota::per_minute(
                limits.failed_authentications_per_address_per_minute,
            )),
            requests: RateLimiter::keyed(Quota::per_second(limits.requests_per_token_per_second)),
        }
    }

    /// Counts a failed authentication from `address` (`None`: unknown, all such callers
    /// share one budget); past the budget, the 429 to answer instead of the 401.
    pub fn failed_authentication(&self, address: Option<IpAddr>) -> Result<(), Problem> {
        let key = address.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), client_key);
        self.failures.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.failures.clock().now());
            too_many(
                format!(
                    "too many failed authentications from this address (at most {} a minute); retry later with a valid token",
                    self.limits.failed_authentications_per_address_per_minute
                ),
                wait,
            )
        })
    }

    /// Counts a request authenticated by `token_id`; past the budget, the 429 to answer.
    pub fn request(&self, token_id: &str) -> Result<(), Problem> {
        let key = token_id.to_owned();
        self.requests.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.requests.clock().now());
            too_many(
                format!(
                    "this token sent more than {} requests a second; slow down",
                    self.limits.requests_per_token_per_second
                ),
                wait,
            )
        })
    }

    /// Forgets the addresses and tokens whose budget is whole again (bounds the memory
    /// an attacker cycling addresses can take to what one interval sees).
    pub fn forget_idle(&self) {
        self.failures.retain_recent();
        self.failures.shrink_to_fit();
        self.requests.retain_recent();
        self.requests.shrink_to_fit();
    }
}

/// The key an address is counted under: IPv4 as is (an IPv4-mapped IPv6 address too),
/// IPv6 by its /64 network.
fn client_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            IpAddr::V6(Ipv6Addr::new(
                segments[0],
                segments[1],
                segments[2],
                segments[3],
                0,
                0,
                0,
                0,
            ))
        }
        v4 => v4,
    }
}

/// 429 with `Retry-After` (whole seconds, at least 1).
fn too_many(detail: String, wait: Duration) -> Problem {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Problem {
        retry_after: Some(u32::try_from(seconds.max(1)).unwrap_or(u32::MAX)),
        ..Problem::new(StatusCode::TOO_MANY_REQUESTS, "too-many-requests", detail)
    }
}

/// Documents the 429 on every operation that needs a token (OpenAPI modifier).
pub struct DocumentThrottling;

impl utoipa::Modify for DocumentThrottling {
    fn modify(&self, openapi: &mut OpenApi) {
        let response = ResponseBuilder::new()
            .description(
                "Throttled: too many failed authentications from this address, or too many \
                 requests with this token. Retry after the Retry-After header's seconds.",
            )
            .header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(
                        utoipa::openapi::ObjectBuilder::new()
                            .schema_type(utoipa::openapi::schema::Type::Integer)
                            .minimum(Some(1)),
                    )
                    .description(Some("Seconds to wait before retrying."))
                    .build(),
            )
            .content(
                "application/problem+json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            let operations: [&mut Option<Operation>; 5] = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let secured = operation
                    .security
                    .as_ref()
                    .is_some_and(|requirements| !requirements.is_empty());
                if secured {
                    operation
                        .responses
                        .responses
                        .insert("429".to_owned(), response.clone().into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_host_counts_as_its_network_and_a_mapped_ipv4_as_itself() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2:bbbb::7".parse().unwrap();
        assert_eq!(client_key(one), client_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn past_its_budget_an_address_is_refused_with_a_retry_after() {
        let throttle = Throttle::new(RateLimits {
            requests_per_token_per_second: NonZeroU32::new(2).unwrap(),
            failed_authentications_per_address_per_minute: NonZeroU32::new(3).unwrap(),
        });
        let address = Some("192.0.2.1".parse().unwrap());
        for _ in 0..3 {
            throttle.failed_authentication(address).unwrap();
        }
        let refused = throttle.failed_authentication(address).unwrap_err();
        assert_eq!(refused.status, 429);
        assert!(refused.retry_after.is_some_and(|seconds| seconds >= 1));
        // Another address has its own budget.
        throttle
            .failed_authentication(Some("192.0.2.2".parse().unwrap()))
            .unwrap();
        throttle.request("tok_a").unwrap();
        throttle.request("tok_a").unwrap();
        assert_eq!(throttle.request("tok_a").unwrap_err().status, 429);
        throttle.request("tok_b").unwrap();
    }
}
